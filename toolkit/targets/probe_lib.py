"""What both probes repeat (toolkit/verify/probe/ and toolkit/gpu/probe.py): run a command without
a shell and never raise, read a file or None.

Stdlib only, Python 3.6+, no toolkit imports: a probe runs on its target as ONE script. Each probe
imports these names on a line ending in SHIPPED_MARK; toolkit.targets.shipping.script() puts this
file's source in place of that line when the probe is shipped, so the target needs nothing of toolkit.
Run in-process (doctor on this machine, the tests) the import is an ordinary one.
"""

import subprocess

SHIPPED_MARK = "# shipped with: toolkit/targets/probe_lib.py"


def run_command(argv, timeout, env=None, cwd=None):
    """Run argv without a shell: {rc, out, err}; never raises (127 not found, 126 not runnable,
    124 timed out)."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              timeout=timeout, env=env, cwd=cwd)
    except FileNotFoundError:
        return {"rc": 127, "out": "", "err": "%s: not found" % argv[0]}
    except PermissionError:
        return {"rc": 126, "out": "", "err": "%s: permission denied" % argv[0]}
    except subprocess.TimeoutExpired:
        return {"rc": 124, "out": "", "err": "timed out after %ss" % timeout}
    except OSError as exc:
        return {"rc": 126, "out": "", "err": str(exc)}
    return {"rc": proc.returncode, "out": proc.stdout.decode("utf-8", "replace"),
            "err": proc.stderr.decode("utf-8", "replace")}


def read(path):
    """The file's text (undecodable bytes replaced), or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None
