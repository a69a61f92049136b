"""Probe part: what every gatherer shares (running a command, reading a file). Stdlib only, Python 3.6+."""

import subprocess

COMMAND_TIMEOUT = 60
SOURCE = globals().get("PROBE_SOURCE")  # the whole shipped probe: set by the bootstrap that exec()s it


def run(argv, timeout=COMMAND_TIMEOUT, env=None, cwd="/"):
    """Run argv without a shell; never raises: {rc, out, err}."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              timeout=timeout, env=env, cwd=cwd)
        return {"rc": proc.returncode, "out": proc.stdout.decode("utf-8", "replace"),
                "err": proc.stderr.decode("utf-8", "replace")}
    except FileNotFoundError:
        return {"rc": 127, "out": "", "err": "%s: not found" % argv[0]}
    except PermissionError:
        return {"rc": 126, "out": "", "err": "%s: permission denied" % argv[0]}
    except subprocess.TimeoutExpired:
        return {"rc": 124, "out": "", "err": "timed out after %ss" % timeout}
    except OSError as exc:
        return {"rc": 126, "out": "", "err": str(exc)}


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None
