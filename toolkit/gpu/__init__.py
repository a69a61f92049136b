"""GPU hosts: gather raw facts (facts, stdlib-only probe), parse them (parse), diagnose (diagnose)."""

from . import facts
from .diagnose import Finding, diagnose
from .parse import Host, read_facts

__all__ = ["Finding", "Host", "diagnose", "facts", "read_facts"]
