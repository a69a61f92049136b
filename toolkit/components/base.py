"""What every component receives and returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.model import osfamily
from toolkit.model.checks import Check
from toolkit.model.plan import Target
from toolkit.model.steps import OsPackages, RunCommand, Step, WriteFile
from toolkit.profile.loader import LoadedProfile
from toolkit.profile.model import Profile


@dataclass(frozen=True)
class Context:
    loaded: LoadedProfile
    resolution: Any            # toolkit.compat.Resolution
    target: Target

    @property
    def profile(self) -> Profile:
        return self.loaded.profile

    @property
    def family(self) -> osfamily.OsFamily:
        """The target's OS family: package names, paths and commands that differ between families."""
        return osfamily.for_distro(self.target.distro)

    def os_packages(self, component: str, title: str, packages) -> OsPackages:
        return OsPackages(component, title, packages=tuple(packages), family=self.family.name)

    def source_file(self, field_path: str) -> Path:
        """The folder-relative base for a path given at field_path (the file that declared it)."""
        return Path(self.loaded.problem(field_path, "").file)


@dataclass
class Contribution:
    steps: list[Step] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def write_file(component: str, title: str, path: str, content: str, mode: str = "0644",
               owner: str = "root") -> WriteFile:
    digest = hashlib.sha256(content.encode()).hexdigest()
    return WriteFile(component=component, title=title, path=path, content=content, mode=mode,
                     owner=owner, sha256=digest)


# sh -c SCRIPT NAME UNIT: a package's own unit disabled (and stopped where systemd runs) because a unit of
# toolkit's serves its port; nothing to do where systemctl is missing (an image).
DISABLE_UNIT = ('u="$1"; command -v systemctl >/dev/null 2>&1 || exit 0; '
                'systemctl disable --quiet -- "$u" 2>/dev/null || true; '
                'if [ -d /run/systemd/system ]; then systemctl stop -- "$u"; fi')
UNIT_DISABLED = ('u="$1"; command -v systemctl >/dev/null 2>&1 || exit 0; '
                 '! systemctl is-enabled --quiet -- "$u" 2>/dev/null && ! systemctl is-active --quiet -- "$u" 2>/dev/null')


def package_unit_disabled(component: str, unit: str, why: str) -> RunCommand:
    """A step that disables and stops the unit a package started (toolkit's own unit serves instead)."""
    return RunCommand(component, f"the package's own {unit} disabled ({why})",
                      argv=("sh", "-c", DISABLE_UNIT, "toolkit-unit", unit),
                      unless=("sh", "-c", UNIT_DISABLED, "probe", unit))
