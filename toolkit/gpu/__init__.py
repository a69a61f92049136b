"""GPU hosts: gather raw facts on the target (probe, stdlib only), parse them (parse), diagnose (diagnose)."""

from . import probe
from .diagnose import Finding, diagnose
from .parse import Host, read_facts

__all__ = ["Finding", "Host", "diagnose", "probe", "read_facts"]
