"""The OS-family seam: every family fills every field, every distro the profile accepts has a family, and
the renderers and components ask only the family about the package manager, trust store and base
packages (a stand-in family with none of Debian's words renders without any of them)."""

from __future__ import annotations

import dataclasses
import re
import typing

import pytest

from tests.unit.certs import ca_pair
from toolkit.model import osfamily
from toolkit.model.osfamily import DEBIAN, DNF, FAMILIES, OsFamily
from toolkit.model.steps import Metadata, OsPackages, PackageRepository
from toolkit.plan.builder import build_plan
from toolkit.profile import model as profile_model
from toolkit.profile.loader import load_profile
from toolkit.render import ansible, apptainer, dockerfile, kubernetes, script
from toolkit.render.common import template

# Words only a Debian-family description may say.
DEBIAN_WORDS = re.compile(r"\bapt\b|apt-get|apt-mark|apt_install|dpkg|DEBIAN_FRONTEND|update-ca-certificates|"
                          r"/usr/local/share/ca-certificates|python3-venv|/etc/apt|sources\.list|dpkg_selections|"
                          r"ansible\.builtin\.apt|TOOLKIT_APT|python_apt|DL3008")
SWAP = {"apt": "zzp", "APT": "ZZP", "Apt": "Zzp", "dpkg": "zzd", "DEBIAN": "ZZ", "debian": "zzfam", "update-ca-certificates": "zz-trust",
        "ca-certificates": "zz-cacerts", "python3-venv": "zz-venv", "sources.list": "zz.repos", "DL3008": "DL9999"}
TEMPLATES = ("script_library", "repo_library")


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_every_field_is_filled(family):
    assert osfamily.missing_fields(family) == []


def test_missing_field_is_reported():
    assert osfamily.missing_fields(dataclasses.replace(DEBIAN, ca_update=(), image_install="")) == [
        "ca_update", "image_install"]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_family_templates_exist_and_render(family):
    for name in TEMPLATES:
        assert template(getattr(family, name)).render(family=family, probes="")


def test_every_profile_distro_has_a_family():
    distro = profile_model.OS.model_fields["distro"].annotation
    for name in typing.get_args(distro):
        assert name in osfamily.for_distro(name).distros


def test_names_and_distros_are_unique():
    assert len({f.name for f in FAMILIES}) == len(FAMILIES)
    distros = [d for f in FAMILIES for d in f.distros]
    assert len(set(distros)) == len(distros)


def test_unknown_family_or_distro_is_refused():
    with pytest.raises(ValueError, match="unknown OS family 'dnf'"):
        osfamily.get("dnf")
    with pytest.raises(ValueError, match="no OS family knows distro 'centos'"):
        osfamily.for_distro("centos")
    with pytest.raises(ValueError):
        OsPackages("os", "x", packages=("git",), family="nope").probe()


def test_debian_family_values():
    assert osfamily.get("debian") is DEBIAN and osfamily.for_distro("ubuntu") is DEBIAN
    assert DEBIAN.package_name("curl=7.88.1-10") == "curl" and DEBIAN.package_name("git") == "git"
    assert DEBIAN.codename("ubuntu", "24.04") == "noble" and DEBIAN.codename("debian", "12") == "bookworm"
    assert DEBIAN.source_path("x") == "/etc/apt/sources.list.d/x.list"
    assert DEBIAN.keyring("x") == "/usr/share/keyrings/x.asc"
    files, stale = DEBIAN.mirror_files("debian", "12", "http://mirror.example/debian/")
    assert files == (("/etc/apt/sources.list", "deb http://mirror.example/debian bookworm main\n"
                      "deb http://mirror.example/debian bookworm-updates main\n"),)
    assert stale == ("/etc/apt/sources.list.d/debian.sources",)
    assert OsPackages("os", "x", packages=("git=1:2.39",)).kind == "AptPackages"
    assert OsPackages("os", "x", packages=("git=1:2.39",)).probe()[-1] == "git"


def test_rhel_family_values():
    assert osfamily.for_distro("rocky") is DNF and osfamily.for_distro("almalinux") is DNF
    assert DNF.package_name("python3-setuptools") == "python3-setuptools"
    assert DNF.package_name("curl-7.76.1") == "curl" and DNF.package_spec("curl=7.76.1") == "curl-7.76.1"
    assert DEBIAN.package_spec("curl=7.88") == "curl=7.88" and DNF.package_spec("gcc-c++") == "gcc-c++"
    assert DNF.source_path("r") == "/etc/yum.repos.d/r.repo" and DNF.keyring("r") == "/etc/pki/rpm-gpg/r.asc"
    assert DNF.install[:3] == ("dnf", "-y", "--setopt=install_weak_deps=False")
    assert OsPackages("os", "x", packages=("git",), family="rhel").kind == "DnfPackages"
    repo = PackageRepository("m", "r", name="r", url="https://e.example/rpm/", arch_in_url=True,
                             signed_by="/etc/pki/rpm-gpg/r.asc", family="rhel")
    assert repo.source_line() == ("[r]\nname=r\nbaseurl=https://e.example/rpm/$basearch\nenabled=1\ngpgcheck=1\n"
                                  "repo_gpgcheck=0\ngpgkey=file:///etc/pki/rpm-gpg/r.asc\n")
    files, stale = DNF.mirror_files("rocky", "9", "http://mirror.example/rocky/")
    assert files[0][0] == "/etc/yum.repos.d/toolkit-mirror.repo"
    assert "baseurl=http://mirror.example/rocky/9/BaseOS/$basearch/os/" in files[0][1]
    assert stale == ("/etc/yum.repos.d/rocky.repo",)


def test_repository_source_line():
    repo = PackageRepository("m", "r", name="r", url="https://e.example/deb/", arch_in_url=True,
                             signed_by="/usr/share/keyrings/r.asc")
    assert repo.source_line() == "deb [signed-by=/usr/share/keyrings/r.asc] https://e.example/deb/$(ARCH) /\n"
    flat = dataclasses.replace(repo, arch_in_url=False, suite="stable", components=("main", "contrib"))
    assert flat.source_line() == "deb [signed-by=/usr/share/keyrings/r.asc] https://e.example/deb/ stable main contrib\n"
    assert repo.source_path == "/etc/apt/sources.list.d/r.list"


def _swapped(value):
    if isinstance(value, str):
        for old, new in SWAP.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, tuple):
        return tuple(_swapped(v) for v in value)
    return value


def stand_in() -> OsFamily:
    """A family that says none of Debian's words; it keeps Debian's templates (their own text is excluded)."""
    changes = {f.name: _swapped(getattr(DEBIAN, f.name)) for f in dataclasses.fields(DEBIAN)
               if f.name not in TEMPLATES + ("mirror_files", "codenames")}
    changes |= {"name": "standin", "distros": ("debian", "ubuntu"),
                "mirror_files": lambda distro, version, mirror: ((("/etc/zzp/mirror.repo", f"{mirror}\n"),), ())}
    return dataclasses.replace(DEBIAN, **changes)


def test_renderers_and_components_ask_only_the_family(monkeypatch, tmp_path):
    fake = stand_in()
    assert not DEBIAN_WORDS.search(repr([getattr(fake, f.name) for f in dataclasses.fields(fake)
                                         if f.name not in TEMPLATES + ("mirror_files",)]))
    monkeypatch.setattr(osfamily, "FAMILIES", (fake,))
    (tmp_path / "ca.pem").write_text(ca_pair()[0])
    (tmp_path / "p.yaml").write_text(
        "name: seam\nextends: datascience-cpu\nos: {distro: debian, version: '12'}\n"
        "network:\n  ca_certificates: [ca.pem]\n  apt_mirror: http://mirror.example/debian\n"
        "packages: {apt: [jq]}\nuser: {create: true, sudo: true}\n")
    plan = build_plan(load_profile(tmp_path / "p.yaml"))
    repo = PackageRepository("monitoring", "a repository", name="r", url="https://e.example/deb/",
                             key_url="https://e.example/key", key_fingerprint="0" * 40,
                             signed_by="/usr/share/keyrings/r.asc", family="standin")
    # Metadata carries the profile itself (its packages.apt key); the rest is what renderers wrote.
    plan = dataclasses.replace(plan, steps=tuple(s for s in plan.steps if not isinstance(s, Metadata)) + (repo,))
    assert {s.family for s in plan.steps if isinstance(s, OsPackages)} == {"standin"}
    libraries = [template(getattr(fake, name)).render(family=fake, probes="") for name in TEMPLATES]
    outputs = {
        "Dockerfile": dockerfile.render(plan).files["Dockerfile"],
        "Dockerfile (legacy)": dockerfile.render(plan, buildkit=False).files["Dockerfile"],
        "playbook": ansible.render(plan).files["ansible/playbook.yml"],
        "setup.sh": script.render(plan).files["setup.sh"],
        "k8s": "".join(kubernetes.render(plan).files.values()),
        "apptainer": "".join(apptainer.render(plan).files.values()),
    }
    for name, text in outputs.items():
        if name == "setup.sh":
            # the family's own templates are Debian's here: drop what they rendered
            for library in libraries:
                text = _without_library(text, library)
        found = sorted({m.group(0) for m in DEBIAN_WORDS.finditer(text)})
        assert not found, f"{name} says {found} without asking the OS family"


def _without_library(text: str, library: str) -> str:
    """text with the lines the family's template rendered removed (they may sit between other lines)."""
    lines = set(library.splitlines())
    return "\n".join(line for line in text.splitlines() if line not in lines)


@pytest.mark.parametrize("name", ["datascience-cpu-rocky9", "pytorch-cuda-alma9"])
def test_rhel_variants_say_no_debian_word(name):
    """The bundled Rocky/Alma variants, every format: nothing of apt, dpkg or update-ca-certificates."""
    from toolkit.profile.bundled import bundled_path

    plan = build_plan(load_profile(bundled_path(name)))
    plan = dataclasses.replace(plan, steps=tuple(s for s in plan.steps if not isinstance(s, Metadata)))
    outputs = {"Dockerfile": dockerfile.render(plan).files["Dockerfile"],
               "playbook": ansible.render(plan).files["ansible/playbook.yml"],
               "setup.sh": script.render(plan).files["setup.sh"]}
    for fmt, text in outputs.items():
        found = sorted({m.group(0) for m in DEBIAN_WORDS.finditer(text)})
        assert not found, f"{name} {fmt} says {found}"
