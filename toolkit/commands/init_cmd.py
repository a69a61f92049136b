"""toolkit init NAME --from FILE... [-o PATH]: a profile from requirements files, pyproject.toml,
environment.yml, cog.yaml and devcontainer.json (toolkit.profile.adopt), validated before it is written.

Where the files disagree with what toolkit can build (a CUDA or Python release the compatibility data
refuses for these frameworks), the adopted value gives way to toolkit's own choice, said item by item; what
still does not validate is printed and nothing is written (exit 2). Output goes through toolkit.outputs:
the profile and the files beside it (a requirements file for lines with markers or URLs, scripts of shell
commands), never over a file toolkit did not write unless --force.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click
import yaml

from toolkit import compat, inputs
from toolkit.compat import versions as V
from toolkit.errors import ProfileError, UsageError
from toolkit.outputs.atomic import check_file, write_output
from toolkit.plan.builder import build_plan
from toolkit.profile import patterns as P
from toolkit.profile.adopt import adopt, kind_of
from toolkit.profile.adopt.draft import Draft
from toolkit.profile.loader import load_profile
from toolkit.ui import out, style, warn

MAX_TRIES = 6
OS_ORDER = (("ubuntu", "22.04"), ("ubuntu", "24.04"), ("debian", "12"), ("debian", "13"), ("debian", "11"))


@click.command("init")
@click.argument("name")
@click.option("--from", "sources", multiple=True, required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="A requirements*.txt, pyproject.toml, environment.yml, cog.yaml or devcontainer.json (repeat).")
@click.option("-o", "--output", type=click.Path(), default=None, help="The profile to write (default NAME.yaml here; "
              "a folder: NAME.yaml in it). Files it needs are written beside it.")
@click.option("--force", is_flag=True, help="Overwrite files toolkit did not write.")
@click.option("--compat-data", type=click.Path(dir_okay=False), default=None,
              help="Extra compatibility data (YAML) overlaid on toolkit's own.")
def init(name: str, sources: tuple[str, ...], output: str | None, force: bool, compat_data: str | None) -> None:
    """Write a profile from the files you already have, saying what it adopted and what it could not."""
    if not P.PROFILE_NAME.fullmatch(name):
        raise UsageError(f"NAME {name!r}: expected {P.DESCRIBE[P.PROFILE_NAME]}", "e.g. toolkit init my-project ...")
    target = Path(output) if output else Path(f"{name}.yaml")
    if target.is_dir():
        target = target / f"{name}.yaml"
    paths = [Path(s) for s in sources]
    for p in paths:
        kind_of(p)                                   # an unknown kind is refused before anything is read
    check_file(target, force=force, option="-o")
    data = compat.load_data(compat_data, user=True)
    draft = adopt(paths, newest(data))
    choose_os(draft, data)
    doc, files = settled(draft, name, target, compat_data)
    text = (f"# adopted by toolkit init from {', '.join(inputs.shown(s, 120) for s in sources)}; edit freely\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120))
    written = write_output(target.parent, {target.name: text, **files}, force=force, option="-o", target=target)
    report(draft, written, target)


def newest(data) -> dict[str, str]:
    """The newest minor release of each framework the compatibility data knows."""
    out_: dict[str, str] = {}
    for section, rows in (("pytorch", data.pytorch.releases), ("tensorflow", data.tensorflow.releases),
                          ("jax", data.jax.releases), ("keras", data.keras.releases)):
        if rows:
            out_[section] = max(rows, key=V.parse)
    return out_


def choose_os(draft: Draft, data) -> None:
    """With a Python wanted and no OS named: the first OS whose own Python it is (no extra interpreter)."""
    if draft.os or not draft.python:
        return
    for distro, version in OS_ORDER:
        if draft.gpu and distro != "ubuntu":        # NVIDIA's CUDA images are Ubuntu's
            continue
        row = data.os.get(distro, {}).get(version)
        if row is not None and row.python == draft.python:
            draft.os = (distro, version)
            draft.took("python.version", f"{draft.python} -> os {distro} {version} (its own Python)")
            return


def settled(draft: Draft, name: str, target: Path, compat_data: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The profile document, after giving way where toolkit cannot build what the files said."""
    for _ in range(MAX_TRIES):
        problems = _problems(draft, name, compat_data)
        if not problems:
            return draft.profile(name, target.parent.resolve())
        if not any(_give_way(draft, p.field, p.message) for p in problems):
            break
    raise ProfileError(problems) from None


def _problems(draft: Draft, name: str, compat_data: str | None):
    """Validate the draft as a file in a private folder (relative paths point at the same files)."""
    with tempfile.TemporaryDirectory(prefix="toolkit-init-") as tmp:
        doc, files = draft.profile(name, Path(tmp))
        for rel, content in files.items():
            (Path(tmp) / rel).write_text(content, encoding="utf-8")
        (Path(tmp) / "profile.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        try:
            build_plan(load_profile(Path(tmp) / "profile.yaml"), compat_data)
        except ProfileError as exc:
            return [p for p in exc.problems]
    return []


def _give_way(draft: Draft, field: str, message: str) -> bool:
    if field.startswith("gpu.cuda") and draft.cuda:
        draft.skip("gpu.cuda", draft.cuda, f"toolkit cannot build it here ({message}); gpu.cuda: auto chooses")
        draft.cuda = None
    elif field.startswith("python") and draft.python and not draft.uv:
        draft.uv = True
        draft.took("python.version", f"{draft.python}: not the OS's own Python; uv provides it (python.installer)")
    elif field.startswith("python") and draft.python:
        draft.skip("python.version", draft.python, f"toolkit cannot provide it here ({message}); the OS's Python is "
                   "used")
        draft.python, draft.uv = None, False
    elif field.startswith("frameworks.") and field.split(".")[1] in draft.frameworks:
        section = field.split(".")[1]
        draft.skip(field, section, f"{message}; left out: set frameworks.{section} yourself")
        draft.frameworks.pop(section)
    elif field.startswith("os.") and draft.os:
        draft.skip("os", " ".join(draft.os), f"{message}; toolkit's default OS is used")
        draft.os = None
    else:
        return False
    return True


def report(draft: Draft, written: list[Path], target: Path) -> None:
    out(style("adopted", bold=True))
    for where, what in draft.adopted:
        out(f"  {where}: {what}")
    if draft.skipped:
        out(style("not adopted", bold=True))
        for where, item, why in draft.skipped:
            out(f"  {where}: {item} - {why}" if item else f"  {where}: {why}")
    for path in written:
        out(f"wrote {path}")
    if draft.run:
        warn("run: steps run in the user's home (not your project folder) as root or user.name: read them before "
             "you apply")
    out(f"next: toolkit validate {target}  (then toolkit plan / render / build / apply)")


COMMANDS = [init]
