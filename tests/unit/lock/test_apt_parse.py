"""Reading apt's output (toolkit/lock/apt_parse.py): simulated installs, os-release, madison, errors."""

from __future__ import annotations

import pytest

from toolkit.lock import apt_parse
from toolkit.lock.apt_parse import Inst
from toolkit.lock.model import AptResolution, Interpreter, OsPackage

SIMULATION = """\
Reading package lists...
Building dependency tree...
The following NEW packages will be installed:
  git git-man
Inst libc6 [2.36-9] (2.36-9+deb12u4 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])
Inst git-man (1:2.39.2-1.1 Debian:12.5/stable [all])
Conf git-man (1:2.39.2-1.1 Debian:12.5/stable [all])
Inst git (1:2.39.2-1.1 Debian:12.5/stable [amd64]) []
Inst libfoo:i386 (1.0~rc1+dfsg-2 localhost [i386])
Inst bare (2.0 [amd64])
Remv oldthing [1.0]
Conf git (1:2.39.2-1.1 Debian:12.5/stable [amd64])
"""


def test_inst_lines_new_packages_upgrades_several_suites_and_arch_all():
    assert apt_parse.parse_inst(SIMULATION) == [
        Inst("libc6", "2.36-9+deb12u4", "amd64", "2.36-9", "Debian:12.5/stable, Debian-Security:12/stable-security"),
        Inst("git-man", "1:2.39.2-1.1", "all", None, "Debian:12.5/stable"),
        Inst("git", "1:2.39.2-1.1", "amd64", None, "Debian:12.5/stable"),
        Inst("libfoo:i386", "1.0~rc1+dfsg-2", "i386", None, "localhost"),
        Inst("bare", "2.0", "amd64", None, ""),
    ]


@pytest.mark.parametrize("line", [
    "Conf git (1:2.39.2-1.1 Debian:12.5/stable [amd64])",
    "Remv oldthing [1.0]",
    "Inst",
    "Inst git",
    " Inst git (1.0 x [amd64])",
    "NOTE: This is only a simulation!",
])
def test_lines_that_install_nothing_are_left_out(line):
    assert apt_parse.parse_inst(line) == []


def test_os_release():
    text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
    assert apt_parse.parse_os_release(text) == "debian 12 (bookworm)"
    assert apt_parse.parse_os_release('ID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n') == "ubuntu 22.04 (jammy)"
    assert apt_parse.parse_os_release("ID=debian\nVERSION_ID=13\n# VERSION_CODENAME=x\n") == "debian 13"
    assert apt_parse.parse_os_release("") == "unknown"


def test_madison_versions_per_package_in_apt_order():
    out = ("toolkit-lock-probe |        1.1 | file:/srv/repo ./ Packages\n"
           "toolkit-lock-probe |        1.0 | file:/srv/repo ./ Packages\n"
           "       git | 1:2.39.5-0+deb12u3 | http://deb.debian.org/debian bookworm/main amd64 Packages\n"
           "       git | 1:2.39.5-0+deb12u3 | http://deb.debian.org/debian bookworm/main Sources\n")
    assert apt_parse.parse_madison(out) == {"toolkit-lock-probe": ["1.1", "1.0"], "git": ["1:2.39.5-0+deb12u3"]}


def test_errors_keep_the_lines_that_say_why():
    stderr = "E: Unable to locate package nosuchpkg\nE: Version '0.1' for 'python3' was not found\n"
    assert apt_parse.apt_errors("Reading package lists...\n", stderr) == stderr.strip()
    stdout = ("Reading package lists...\nSome packages could not be installed.\n"
              "The following packages have unmet dependencies:\n"
              " git : Depends: libcurl3-gnutls (>= 7.88) but 7.74 is to be installed\n")
    got = apt_parse.apt_errors(stdout, "E: Unable to correct problems, you have held broken packages.\n")
    assert got.splitlines() == ["The following packages have unmet dependencies:",
                                " git : Depends: libcurl3-gnutls (>= 7.88) but 7.74 is to be installed",
                                "E: Unable to correct problems, you have held broken packages."]
    assert apt_parse.apt_errors("", "cat: /etc/os-release: No such file\n") == "cat: /etc/os-release: No such file"


def test_preferences_pin_each_version_above_the_archive():
    text = apt_parse.preferences([("git", "1:2.39.2-1.1"), ("less", "590-2")])
    assert text == ("Package: git\nPin: version 1:2.39.2-1.1\nPin-Priority: 1001\n\n"
                    "Package: less\nPin: version 590-2\nPin-Priority: 1001\n\n")


def test_pinned_uses_the_family_separator_in_order():
    packages = [OsPackage("git", "1:2.39.2-1.1", "amd64", "git: Git"), OsPackage("ca-certificates", "20230311", "all", "os: x")]
    assert apt_parse.pinned(packages) == ("git=1:2.39.2-1.1", "ca-certificates=20230311")
    assert apt_parse.pinned([]) == ()


@pytest.mark.parametrize(("version", "upstream"), [
    ("3.11.2-6+deb12u6", "3.11.2"), ("1:2.39.5-0+deb12u3", "2.39.5"), ("3.12.3-1ubuntu0.1", "3.12.3"), ("10.0.0", "10.0.0"),
])
def test_upstream_version(version, upstream):
    assert apt_parse.upstream_version(version) == upstream


def test_interpreter_from_the_locked_packages():
    packages = (OsPackage("python3", "3.11.2-1+b1", "amd64", "os"),
                OsPackage("python3.11-minimal", "3.11.2-6+deb12u6", "amd64", "os"),
                OsPackage("python3.11", "3.11.2-6+deb12u6", "amd64", "os"))
    res = AptResolution(packages, "debian 12 (bookworm)", "amd64")
    assert apt_parse.interpreter(res, "3.11") == Interpreter("3.11.2", "os package python3.11 3.11.2-6+deb12u6")
    assert apt_parse.interpreter(res, "3.11.2") == Interpreter("3.11.2", "os package python3.11 3.11.2-6+deb12u6")
    minimal = AptResolution(packages[1:2], "debian 12 (bookworm)", "amd64")
    assert apt_parse.interpreter(minimal, "3.11") == Interpreter("3.11.2", "os package python3.11-minimal 3.11.2-6+deb12u6")
    assert apt_parse.interpreter(res, "3.12") is None
    assert apt_parse.interpreter(AptResolution((), "debian 12", "amd64"), "3.11") is None
