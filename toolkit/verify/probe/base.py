"""Probe part: what every gatherer shares (running a command, reading a file: toolkit/targets/probe_lib.py,
put in place of its import line when shipped). Stdlib only, Python 3.6+."""

from toolkit.targets.probe_lib import read, run_command  # noqa: F401 # shipped with: toolkit/targets/probe_lib.py

COMMAND_TIMEOUT = 60
SOURCE = globals().get("PROBE_SOURCE")  # the whole shipped probe: set by the bootstrap that exec()s it


def run(argv, timeout=COMMAND_TIMEOUT, env=None, cwd="/"):
    """Run argv without a shell; never raises: {rc, out, err}."""
    return run_command(argv, timeout, env=env, cwd=cwd)
