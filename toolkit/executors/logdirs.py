"""Where apply's per-host logs go, and their file names.

By default each run gets its own folder in one per-user state folder,
``$XDG_STATE_HOME/toolkit/apply-logs/<run>`` (``~/.local/state/...`` without XDG_STATE_HOME);
the newest KEEP_RUNS runs are kept, and only folders toolkit made there (named like a run and
holding its marker file) are ever pruned. With ``--log-dir DIR`` the logs go into DIR, where a
file toolkit did not write is never overwritten (toolkit.outputs) unless --force.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import secrets
import shutil
from pathlib import Path
from urllib.parse import quote

from toolkit.outputs.owned import HEADER_WORDS

KEEP_RUNS = 20
MARKER = ".toolkit-apply-run"
RUN_NAME = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{4}$")     # date-time-microseconds-random
MAX_NAME = 200
LOG_HEADER = f"# toolkit apply log: {HEADER_WORDS[0]}; {HEADER_WORDS[1]}\n"


def state_root(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):          # the XDG spec: a relative value is ignored
        base = os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "toolkit" / "apply-logs"


def log_name(host: str) -> str:
    """The log file name of a host: its name with anything but letters, digits and ``._~@-``
    percent-encoded ('/' -> %2F, ':' -> %3A, ESC -> %1B). The encoding is one-to-one, so two hosts
    never share a log; an over-long name keeps a digest of the whole."""
    name = quote(host, safe="@")
    if len(name) > MAX_NAME:
        name = f"{name[:MAX_NAME - 17]}-{hashlib.sha256(host.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"
    return f"{name}.log"


def new_run(root: Path | None = None, keep: int = KEEP_RUNS) -> Path:
    """A fresh folder (mode 0700) for this run's logs; older runs beyond `keep` are removed."""
    root = root or state_root()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    while True:
        now = datetime.datetime.now()
        folder = root / f"{now:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(2)}"
        try:
            folder.mkdir(mode=0o700)
            break
        except FileExistsError:
            continue
    (folder / MARKER).write_text("toolkit apply logs; this folder is removed when newer runs push it out\n")
    prune(root, keep, folder)
    return folder


def prune(root: Path, keep: int, current: Path) -> list[Path]:
    """Remove all but the newest `keep` run folders toolkit made under root (`current`, this run's,
    always stays); returns those removed."""
    runs = sorted(p for p in root.iterdir() if p != current and RUN_NAME.match(p.name) and not p.is_symlink()
                  and p.is_dir() and (p / MARKER).is_file())
    old = runs[:len(runs) - max(keep - 1, 0)]
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return old
