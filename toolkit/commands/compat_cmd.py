"""`toolkit compat`: what toolkit knows about framework / CUDA compatibility, and refreshing it from the index."""

from __future__ import annotations

import json
from pathlib import Path

import click

from toolkit.compat import data_model, refresh, show
from toolkit.compat.index_client import IndexClient
from toolkit.profile.loader import load_profile
from toolkit.ui import out, style, warn

DATA = click.option("--compat-data", type=click.Path(dir_okay=False), default=None,
                    help="Extra compatibility data (YAML) overlaid on toolkit's own and the user overlay.")


@click.group("compat")
def compat() -> None:
    """Compatibility data: show what toolkit knows, refresh it from the package index."""


@compat.command("show")
@click.argument("name", required=False, metavar="[NAME]")
@click.argument("version", required=False, metavar="[VERSION]")
@DATA
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show_cmd(name: str | None, version: str | None, compat_data: str | None, as_json: bool) -> None:
    """Print what toolkit knows (NAME: torch, tensorflow, jax, keras, cuda, os, python; VERSION: one release)
    and where each value came from: the bundled data, the user overlay, or --compat-data."""
    found = show.rows(name, version, compat_data)
    if as_json:
        out(json.dumps(found, indent=2))
        return
    layers = data_model.load_data(compat_data, user=True).layers
    out(style("data: ", bold=True) + " + ".join(layers))
    user = data_model.user_overlay_path()
    if not any(label.startswith("user overlay") for label in layers):
        out(f"  (no user overlay at {user}; `toolkit compat refresh` writes one)")
    width = max((len(r["path"]) for r in found), default=0)
    for row in found:
        value = row["value"]
        text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
        source = "" if row["source"] == "bundled" else f"  [{row['source']}]"
        out(f"  {row['path'].ljust(width)}  {text}{source}")


@compat.command("refresh")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Overlay file to write ('-' for standard output). Default: the user overlay "
                   "($XDG_CONFIG_HOME/toolkit/compat.yaml), which every command reads without a flag.")
@click.option("--index-url", default=None, help="Simple-API root (PEP 691). Default: the profile's network.pip, "
              "then PIP_INDEX_URL, then pip's configuration, then PyPI.")
@click.option("--profile", "profile_path", default=None, metavar="PROFILE",
              help="Use this profile's network.pip.index_url (mirrors).")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=30.0, show_default=True,
              help="Seconds to wait for each answer from the index.")
@DATA
def refresh_cmd(output: str | None, index_url: str | None, profile_path: str | None, timeout: float,
                compat_data: str | None) -> None:
    """Describe framework releases the data does not know yet, from the index's own metadata.

    Reads torch, torchvision, torchaudio, tensorflow, keras, jax, jaxlib and the jax CUDA plugins:
    versions, Python ranges, the CUDA/cuDNN the PyPI wheels pin, tensorflow[and-cuda] and keras
    requirements, companions. Driver floors, image tags and wheel-index variants cannot be read there
    and stay out (the file says so)."""
    target = None if output == "-" else Path(output) if output else data_model.user_overlay_path()
    source = "--index-url"
    if index_url is None and profile_path:
        pip = load_profile(profile_path).profile.network.pip
        index_url, source = pip.index_url, f"{profile_path} network.pip.index_url"
    if index_url is None:
        index_url, source = refresh.pip_index_url()
    # compare against what is known without the file about to be replaced
    base = data_model.load_data(compat_data, user=target != data_model.user_overlay_path())
    client = IndexClient(index_url, timeout=timeout)
    job = refresh.Refresher(client, base)
    rows = job.run()
    text = refresh.render(rows, job.notes, client.root, base)
    described = sum(len(section.get("releases", {})) for section in rows.values())
    if target is None:
        out(text.rstrip("\n"))
    else:
        refresh.write_atomically(target, text)
        data_model.load_data(target)  # what was written must load; a defect here is a bug, not bad input
        out(f"wrote {target}: {described} row(s) from {client.root} ({source})")
    for note in job.notes:
        warn(note)


COMMANDS = [compat]
