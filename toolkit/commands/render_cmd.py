"""`toolkit render`: write a profile's Dockerfile, setup script, Ansible playbook, devcontainer or
testinfra suite (or all of them) into a folder; plus the committed renders of the bundled profiles.

Renderers are imported when asked for, so a missing one is a clear error, not an ImportError at start.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from pathlib import Path

import click

from toolkit.commands import locking, options
from toolkit.errors import ToolkitError, UsageError
from toolkit.executors.image_tag import EXAMPLE, shown, tag_problem
from toolkit.model.plan import Plan
from toolkit.plan.builder import build_plan
from toolkit.profile.bundled import list_bundled
from toolkit.profile.loader import load_profile
from toolkit.render.common import Rendered
from toolkit.ui import out

# format -> module under toolkit.render exposing render(plan) -> Rendered
FORMATS = {
    "dockerfile": "toolkit.render.dockerfile",
    "script": "toolkit.render.script",
    "ansible": "toolkit.render.ansible",
    "devcontainer": "toolkit.render.devcontainer",
    "testinfra": "toolkit.render.testinfra",
    "k8s": "toolkit.render.kubernetes",
    "apptainer": "toolkit.render.apptainer",
}
# Fleet formats: need the hosts of an inventory (--inventory), so `all` leaves them out.
FLEET_FORMATS = ("prometheus",)
COMMITTED_DIR = Path(__file__).resolve().parents[2] / "dockerfiles"
ABSTRACT_PROFILES = {"base"}   # only meant to be extended: no committed render
RUNTIME_CLASS = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
ARCHIVE_PATH = re.compile(r"^[A-Za-z0-9._/+-]{1,4096}$")
REGENERATE = "run scripts/update-dockerfiles.sh (python -m toolkit.commands.render_cmd --update-committed)"


def renderer(fmt: str):
    try:
        return importlib.import_module(FORMATS[fmt]).render
    except ImportError as exc:
        raise ToolkitError(f"the {fmt} renderer is not available in this toolkit: {exc}",
                           "pick another --format, or reinstall toolkit") from None


def render_format(plan: Plan, fmt: str, buildkit: bool = True, created: str | None = None,
                  image: str | None = None, runtime_class: str | None = None) -> Rendered:
    if fmt == "dockerfile":
        return renderer(fmt)(plan, buildkit=buildkit, created=created)
    if fmt == "k8s":
        return renderer(fmt)(plan, image=image, runtime_class=runtime_class)
    if fmt == "apptainer":
        return renderer(fmt)(plan, image=image)
    return renderer(fmt)(plan)


def _check_image(fmt: str, image: str | None, runtime_class: str | None) -> None:
    """--image: an image reference (apptainer also takes docker-archive:PATH); --runtime-class: a DNS name."""
    if image is not None:
        archive = image.removeprefix("docker-archive:")
        problem: str | None
        if archive != image and fmt != "apptainer":
            problem = "docker-archive: is for --format apptainer only (a cluster pulls an image by name)"
        elif archive != image:
            problem = None if ARCHIVE_PATH.match(archive) else f"{shown(archive)} is not a plain file path"
        else:
            problem = tag_problem(image)
        if problem:
            raise UsageError(f"--image: {problem}", f"{EXAMPLE}, or docker-archive:IMAGE.tar (apptainer)")
    if runtime_class is not None and not RUNTIME_CLASS.match(runtime_class):
        raise UsageError(f"--runtime-class: {shown(runtime_class)} is not a Kubernetes object name",
                         "lower-case letters, digits, '-' and '.', e.g. nvidia")


@click.command("render")
@click.argument("profile", metavar="PROFILE")
@click.option("--format", "fmt", type=click.Choice([*FORMATS, *FLEET_FORMATS, "all"]), default="all",
              show_default=True, help="What to write (prometheus: with --inventory; not part of all).")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Folder to write into (created if missing).")
@click.option("--no-buildkit", is_flag=True, help="Dockerfile for the legacy builder (no RUN --mount, no --chmod).")
@click.option("--created", default=None, metavar="TIMESTAMP",
              help="Value of the org.opencontainers.image.created label (left out by default: reproducible).")
@click.option("--image", default=None, metavar="REF",
              help="The built image the k8s manifests and the Apptainer definition run (default toolkit/NAME:latest); "
                   "apptainer also takes docker-archive:FILE.tar (from `docker save`).")
@click.option("--runtime-class", default=None, metavar="NAME",
              help="k8s: runtimeClassName of GPU pods (e.g. nvidia, where the GPU operator made one).")
@options.compat_data
@locking.lock_options()
@click.option("--force", is_flag=True,
              help="Overwrite files in OUTPUT that toolkit did not write (or that were edited since).")
@click.option("--inventory", "inventory", default=None, metavar="FILE",
              help="--format prometheus: the hosts to scrape (toolkit's or an Ansible inventory); their groups "
                   "become the `groups` label.")
@click.option("--prometheus-url", default="http://127.0.0.1:9090", show_default=True,
              help="--format prometheus: where Grafana's datasource reaches Prometheus.")
def render(profile: str, fmt: str, outdir: str, no_buildkit: bool, created: str | None, image: str | None,
           runtime_class: str | None, compat_data: str | None, locked: bool, lock_file: str | None,
           force: bool, inventory: str | None, prometheus_url: str) -> None:
    """Render PROFILE into files under OUTPUT: Dockerfile (+ files/, wheelhouse/), setup.sh, ansible/,
    .devcontainer/devcontainer.json, tests/, k8s/ and apptainer/ (with --format all).

    Files toolkit wrote there before are replaced; anything else is refused (exit 2) unless --force.
    All files are written at once: an error, a full disk or Ctrl-C leaves the earlier output whole."""
    _check_image(fmt, image, runtime_class)
    if (fmt in FLEET_FORMATS) != bool(inventory):
        raise UsageError("--format prometheus needs --inventory FILE (the hosts to scrape)" if inventory is None
                         else "--inventory is for --format prometheus only")
    loaded = load_profile(profile)
    plan, _ = locking.apply_lock(loaded, build_plan(loaded, compat_data), locked, lock_file)
    if inventory is not None:
        if not re.fullmatch(r"https?://[A-Za-z0-9._~:/?#@!$&'()*+,;=%\[\]-]+", prometheus_url):
            raise UsageError(f"--prometheus-url {prometheus_url[:80]!r} is not an http(s) URL",
                             "e.g. --prometheus-url http://prometheus.internal:9090")
        for path in fleet_render(plan, inventory, prometheus_url).write(outdir, force=force, option="-o"):
            out(str(path))
        return
    formats = list(FORMATS) if fmt == "all" else [fmt]
    rendered = Rendered()
    for f in formats:
        rendered = rendered.merged(render_format(plan, f, buildkit=not no_buildkit, created=created,
                                                   image=image, runtime_class=runtime_class))
    for path in rendered.write(outdir, force=force, option="-o"):
        out(str(path))


def fleet_render(plan: Plan, inventory_file: str, prometheus_url: str) -> Rendered:
    """Prometheus, alert rules and Grafana provisioning for the inventory's hosts."""
    from toolkit.executors import inventory
    from toolkit.render import prometheus
    from toolkit.targets.ssh_values import SHOWN_PATH, shown

    resolver = inventory.Resolver(inventory.load_ssh_config(None), None, shown("~/.ssh/config", SHOWN_PATH))
    hosts = [prometheus.ScrapeHost(h.name, h.hostname, groups) for h, groups in inventory.grouped(inventory_file, resolver)]
    return prometheus.render(plan, hosts, prometheus_url)


def committed_dockerfiles() -> dict[str, str]:
    """dockerfiles/<profile>.Dockerfile text for every bundled, non-abstract profile (BuildKit form)."""
    texts = {}
    for name, _, path in list_bundled():
        if name not in ABSTRACT_PROFILES:
            texts[f"{name}.Dockerfile"] = render_format(build_plan(load_profile(str(path))), "dockerfile") \
                .files["Dockerfile"]
    return texts


def update_committed(folder: Path = COMMITTED_DIR) -> list[Path]:
    """Rewrite dockerfiles/*.Dockerfile; a stale one goes only when it carries toolkit's header."""
    from toolkit.outputs.atomic import write_output

    stale = [p.name for p in folder.glob("*.Dockerfile")] if folder.is_dir() else []
    return write_output(folder, committed_dockerfiles(), remove=stale, manifest=False, option="dockerfiles/")


COMMANDS = [render]


if __name__ == "__main__":
    if sys.argv[1:] != ["--update-committed"]:
        sys.exit(f"usage: python -m toolkit.commands.render_cmd --update-committed\n({REGENERATE})")
    for written in update_committed():
        print(os.path.relpath(written))
