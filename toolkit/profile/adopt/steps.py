"""Commands from cog.yaml (`build.run`) and devcontainer.json (`postCreateCommand`...) as run: steps.

A shell string stays a shell script (written beside the profile, `#!/bin/sh` and `set -eu` first): it was
written for a shell, and a script shows that plainly. An argv list stays an argv (`command:`). A command
that only installs pip packages (`pip install -r requirements.txt`, `pip install numpy pandas`) becomes
those requirements instead: the venv's pip installs them in their own layer.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from toolkit import inputs, redact
from toolkit.profile import patterns as P
from toolkit.profile.adopt.draft import Draft

PIPS = (["pip"], ["pip3"], ["python", "-m", "pip"], ["python3", "-m", "pip"])
PIP_FLAGS = ("--user", "-U", "--upgrade", "--no-cache-dir", "-q", "--quiet")


def _pip_install(words: list[str]) -> list[str] | None:
    """The arguments of a plain `pip install ...` command line, or None."""
    for head in PIPS:
        n = len(head)
        if words[:n] == head and len(words) > n + 1 and words[n] == "install":
            return [w for w in words[n + 1:] if w not in PIP_FLAGS] or None
    return None


def command(draft: Draft, where: str, cmd: object, stem: str, folder: Path, newest: dict[str, str],
            user: str | None = None) -> None:
    """One command (a string or an argv list) from `where`; relative files it names are under `folder`."""
    if redact.has_credentials(str(cmd)):
        draft.skip(where, "a command", "holds credentials (a URL with user:password@): keep them out of the profile")
        return
    if isinstance(cmd, list) and all(isinstance(w, str) for w in cmd) and cmd:
        words = list(cmd)
    elif isinstance(cmd, str) and cmd.strip():
        try:
            words = shlex.split(cmd)
        except ValueError:
            words = []
        if any(ch in cmd for ch in "|&;<>()$`\n*?") or not words:
            _script(draft, where, cmd, stem, user)
            return
    else:
        draft.skip(where, repr(cmd)[:60], "neither a command line nor a list of arguments")
        return
    pip = _pip_install(words)
    if pip is not None and _as_requirements(draft, where, pip, folder, newest):
        return
    bad = next((w for w in words if P.not_text(w) or not w), None)
    try:
        P.program(words[0])
    except ValueError:
        bad = words[0]
    if bad is not None:
        _script(draft, where, shlex.join(words), stem, user)
        return
    step = {"name": draft.run_name(stem), "command": words, **({"user": user} if user else {})}
    draft.run.append(step)
    draft.took(where, f"{inputs.shown(shlex.join(words), 80)} -> run step {step['name']} (argv)")


def _as_requirements(draft: Draft, where: str, args: list[str], folder: Path, newest: dict[str, str]) -> bool:
    from toolkit.profile.adopt.python_files import requirements

    if any(a.startswith("-") and a not in ("-r", "--requirement") for a in args):
        return False
    i = 0
    while i < len(args):
        if args[i] in ("-r", "--requirement") and i + 1 < len(args):
            requirements(draft, folder / args[i + 1], newest, f"{where} (-r {inputs.shown(args[i + 1], 60)})")
            i += 2
        else:
            draft.requirement(where, args[i], newest)
            i += 1
    return True


def _script(draft: Draft, where: str, text: str, stem: str, user: str | None) -> None:
    if P.not_text(text, allowed="\n\t"):
        draft.skip(where, text, "holds control or invisible formatting characters")
        return
    name = draft.run_name(stem)
    draft.run.append({"name": name, "script_text": f"#!/bin/sh\n# adopted from {inputs.shown(where, 120)}\nset -eu\n"
                      f"{text.rstrip()}\n", **({"user": user} if user else {})})
    draft.took(where, f"{inputs.shown(text, 80)} -> run step {name} (a shell script written beside the profile)")
