"""The probe: gathers every fact a plan's checks need, on the target, in one round trip.

The probe is a self-contained script (stdlib only, Python 3.6+), kept here as parts (PARTS, in
order) that import from each other only with relative imports. toolkit.verify.facts ships it as
one script: the parts concatenated, those imports dropped (``facts.probe_source()``). The target
runs it with its python3; it reads a JSON request (``sys.argv[2]``), gathers facts concurrently
and prints one JSON document. Checks are evaluated on the controller (toolkit.verify.evaluate),
never here; the controller's check-kind table (toolkit.verify.kinds) names the gatherers by key.

Modes: ``probe REQUEST`` (the main run) and ``interp REQUEST`` / ``torch REQUEST`` /
``tf REQUEST``, which the main run starts with a *venv's* interpreter (the probe's own
source passed again with ``-c``) to ask that interpreter about its packages.
Importing this package (tests, the controller) runs nothing.
"""

from .accounts import device_node, dir_stats, mount_facts, path_stat, ssh_keys, ssh_keys_here
from .base import COMMAND_TIMEOUT, read, run
from .folders import bits_test, owner_of, try_write, unwritable_under, writable, write_test
from .hub import jupyterhub, jupyterhub_key
from .main import GATHERERS, MODES, command_key, gather, jobs_for, writable_key
from .pythons import in_interpreter, interp_facts, pip_check, tf_facts, top_level, torch_facts, try_import
from .servers import JUPYTER_PACKAGES, deferred_imports, jupyter, jupyter_key, settle_deferred
from .services import (
    jupyter_proxy,
    jupyter_proxy_key,
    jupyter_service,
    jupyter_service_key,
    listening,
    metrics_endpoint,
    metrics_endpoint_key,
)
from .system import command, dpkg, files, git, gpu, os_release, paths, rpm, shm, users

# The parts in the order the shipped script concatenates them (a part only uses those before it at import).
PARTS = ("base", "system", "folders", "accounts", "pythons", "servers", "services", "hub", "main")

__all__ = [
    "device_node", "dir_stats", "mount_facts", "path_stat", "ssh_keys", "ssh_keys_here",
    "COMMAND_TIMEOUT", "GATHERERS", "JUPYTER_PACKAGES", "MODES", "PARTS", "bits_test", "command", "command_key",
    "deferred_imports", "dpkg", "files", "gather", "git", "gpu", "in_interpreter", "interp_facts", "jobs_for",
    "jupyter", "jupyter_key", "jupyterhub", "jupyterhub_key", "jupyter_proxy", "jupyter_proxy_key", "jupyter_service", "jupyter_service_key",
    "listening", "metrics_endpoint", "metrics_endpoint_key", "os_release", "owner_of",
    "paths", "pip_check", "read", "rpm", "run", "settle_deferred",
    "shm", "tf_facts", "top_level", "torch_facts", "try_import", "try_write", "unwritable_under", "users",
    "writable", "writable_key", "write_test",
]
