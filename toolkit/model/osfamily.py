"""OS families: everything toolkit assumes about a distribution's package manager, trust store and base
packages, in one description per family, so renderers and components ask the family instead of naming
apt, dpkg or update-ca-certificates themselves.

A family is selected from the plan's target distro (`for_distro`). Renderers read plain data here
(argv, shell text, Dockerfile lines, Ansible module names and arguments); the few pieces of shell that
only a family can write (its package library for setup.sh, its repository functions) are templates
named by the family (`script_library`, `repo_library`). Adding a family (dnf, RHEL) = one OsFamily
value here plus those templates; see docs/architecture.md, "Adding an OS family".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields

# (distro, version, mirror URL) -> ((path, text) files to write, default source files to remove)
MirrorFiles = Callable[[str, str, str], tuple[tuple[tuple[str, str], ...], tuple[str, ...]]]


@dataclass(frozen=True)
class OsFamily:
    name: str                                   # "debian"
    distros: tuple[str, ...]                    # target distros that belong to it
    package_manager: str                        # "apt": shown in step titles and task names
    packages_kind: str                          # OsPackages' kind as plans, logs and state files show it
    version_separator: str                      # between a package name and its pinned version
    codenames: tuple[tuple[str, str, str], ...]  # (distro, version, codename): mirror suites
    mirror_files: MirrorFiles                   # network.apt_mirror: the sources that use the mirror
    # --- setup.sh and probes: argv and POSIX sh text
    installed_probe: str                        # sh -c TEXT probe PKG...: exit 0 when every PKG is installed
    package_functions: str                      # sh functions installed PKG... / held PKG...
    update_lists: tuple[str, ...]               # refresh the package lists
    install: tuple[str, ...]                    # argv prefix; the packages follow
    hold: tuple[str, ...]                       # argv prefix: keep these packages at their version
    unhold: tuple[str, ...]
    environment: tuple[tuple[str, str], ...]    # set while installing (non-interactive front end)
    script_library: str                         # template: the setup.sh function that installs packages
    script_install: str                         # ... its name (waits for locks, refreshes lists once)
    script_lists_stale: str                     # shell statement: the lists must be refreshed before the next install
    config_dir: str                             # writing here makes the lists stale
    # --- trust store and base packages
    ca_dir: str                                 # where extra PEM certificates go
    ca_prefix: str                              # toolkit's files there: a subfolder, or a name prefix where
                                                # the trust tool reads no subfolders (p11-kit's anchors)
    ca_update: tuple[str, ...]                  # rebuilds the bundle from ca_dir
    ca_bundle: str                              # the bundle every tool reads
    ca_packages: tuple[str, ...]                # what ca_update needs
    python_venv_packages: tuple[str, ...]       # system Python able to create a venv
    pip_wheel_dir: str                          # the OS's copy of pip's wheel (what ensurepip installs from)
    pip_module_packages: tuple[str, ...]        # what Ansible's pip module imports in the system Python
    # --- package repositories signed by a pinned key
    repo_tools: tuple[str, ...]                 # what downloading and checking a key needs
    sources_dir: str                            # one file per repository
    sources_suffix: str
    keyring_dir: str                            # where pinned keys are installed
    arch_variable: str                          # the package manager's own architecture variable
    repo_configured: str                        # sh function repo_configured URL OWN_FILE
    repo_line: str                              # str.format(name=, key=, url=, suite=, components=): one source entry
    repo_format: str                            # the package format in a repository URL ("deb", "rpm")
    repo_library: str                           # template: setup.sh functions repo_key_pinned / pinned_repo
    # --- Dockerfile
    image_update: str                           # RUN part: refresh the lists
    image_install: str                          # RUN part; the packages follow
    image_cache_mounts: tuple[str, ...]         # BuildKit cache mounts that keep downloads out of layers
    image_cache_prepare: tuple[str, ...]        # RUN parts before using those mounts
    image_cleanup: tuple[str, ...]              # RUN parts after installing without them (legacy builder)
    image_unpinned_rule: str                    # hadolint rule about packages without a pinned version
    image_cache_rules: tuple[str, ...]          # hadolint rules that miss the cache mounts (dnf: DL3040 clean all)
    # --- Ansible
    ansible_package_module: str
    ansible_install_args: tuple[tuple[str, object], ...]
    ansible_refresh_args: tuple[tuple[str, object], ...]   # with the install: refresh stale lists first
    ansible_refresh_now: tuple[tuple[str, object], ...]    # alone: refresh right now (a repository was added)
    ansible_lock_args: tuple[tuple[str, object], ...]
    ansible_hold_module: str
    ansible_hold_args: tuple[tuple[str, object], ...]       # beside name: {{ item }}
    ansible_key_module: str                     # imports a pinned key into the package database ("": none needed)
    ansible_check_module: str                   # Python module the package module needs in --check
    ansible_check_fact: str                     # the registered result of looking for it
    ansible_module_packages: tuple[str, ...]    # the package module's own binding (it installs it when missing);
                                                # locked beside pip_module_packages so a bundle carries both
    # Dockerfile, BuildKit: a RUN part that refreshes the lists only when the cache mount has none fresh
    # (one refresh per build; a later layer rebuilt alone refreshes if they aged). "" = always image_update.
    image_update_if_stale: str = ""

    def package_name(self, spec: str) -> str:
        """`name=version` (Debian), `name-version` (dnf: the separator followed by a digit) -> name."""
        return re.split(re.escape(self.version_separator) + r"(?=\d)", spec, maxsplit=1)[0]

    def package_spec(self, spec: str) -> str:
        """A profile's `name=version` in this family's own spelling (dnf: name-version)."""
        name, sep, version = spec.partition("=")
        return f"{name}{self.version_separator}{version}" if sep else spec

    def codename(self, distro: str, version: str) -> str | None:
        return next((c for d, v, c in self.codenames if (d, v) == (distro, version)), None)

    def source_path(self, name: str) -> str:
        return f"{self.sources_dir}/{name}{self.sources_suffix}"

    def keyring(self, name: str) -> str:
        return f"{self.keyring_dir}/{name}.asc"


def _debian_mirror(distro: str, version: str, mirror: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    codename = DEBIAN.codename(distro, version)
    mirror = mirror.rstrip("/")
    suites: tuple[str | None, ...]
    if distro == "ubuntu":
        comps = "main restricted universe multiverse"
        suites = (codename, f"{codename}-updates", f"{codename}-security")
    else:
        comps = "main"
        suites = (codename, f"{codename}-updates")
    text = "".join(f"deb {mirror} {suite} {comps}\n" for suite in suites)
    # The image's deb822 file would still point at the default archive beside the mirror.
    return (("/etc/apt/sources.list", text),), (f"/etc/apt/sources.list.d/{distro}.sources",)


def _package_functions(installed: str, held: str) -> str:
    """sh functions installed PKG... / held PKG...: each loops over its arguments with the family's test of one."""
    return "".join(f"{name}() {{\n  local p\n  for p in \"$@\"; do\n{test}  done\n}}\n"
                   for name, test in (("installed", installed), ("held", held)))


_APT_LOCK = ("-o", "DPkg::Lock::Timeout=600")
_DPKG_STATUS = "dpkg-query -W -f='${Status}' \"$p\" 2>/dev/null"

DEBIAN = OsFamily(
    name="debian",
    distros=("debian", "ubuntu"),
    package_manager="apt",
    packages_kind="AptPackages",
    version_separator="=",
    codenames=(("ubuntu", "20.04", "focal"), ("ubuntu", "22.04", "jammy"), ("ubuntu", "24.04", "noble"),
               ("ubuntu", "26.04", "resolute"), ("debian", "11", "bullseye"), ("debian", "12", "bookworm"), ("debian", "13", "trixie")),
    mirror_files=_debian_mirror,
    # dpkg-query prints one status per package; all must be "install ok installed".
    installed_probe=('for p in "$@"; do dpkg-query -W -f=\'${Status}\' "$p" 2>/dev/null '
                     '| grep -q "install ok installed" || exit 1; done'),
    package_functions=_package_functions(
        f"    case \"$({_DPKG_STATUS})\" in\n"
        '      "install ok installed"|"hold ok installed") ;;\n'
        "      *) return 1 ;;\n"
        "    esac\n",
        f"    [ \"$({_DPKG_STATUS})\" = \"hold ok installed\" ] || return 1\n"),
    update_lists=("apt-get", *_APT_LOCK, "update"),
    install=("apt-get", *_APT_LOCK, "install", "-y", "--no-install-recommends", "--"),
    hold=("apt-mark", "hold"),
    unhold=("apt-mark", "unhold"),
    environment=(("DEBIAN_FRONTEND", "noninteractive"),),
    script_library="os/debian.sh.j2",
    script_install="apt_install",
    script_lists_stale="TOOLKIT_APT_UPDATED=0",
    config_dir="/etc/apt",
    ca_dir="/usr/local/share/ca-certificates",
    ca_prefix="toolkit/",
    ca_update=("update-ca-certificates",),
    ca_bundle="/etc/ssl/certs/ca-certificates.crt",
    ca_packages=("ca-certificates",),
    python_venv_packages=("python3", "python3-venv"),
    pip_wheel_dir="/usr/share/python-wheels",
    pip_module_packages=("python3-packaging",),
    repo_tools=("ca-certificates", "curl", "gpg"),
    sources_dir="/etc/apt/sources.list.d",
    sources_suffix=".list",
    keyring_dir="/usr/share/keyrings",
    arch_variable="$(ARCH)",
    # exit 0 when an apt source other than OWN_FILE (a .list or .sources file) already names URL on a
    # line that is not a comment: the host set that repository up itself, and a second entry with
    # another signed-by would make apt refuse both.
    repo_configured=(
        "repo_configured() {\n"
        "  grep -rsF --include='*.list' --include='*.sources' --exclude=\"$(basename \"$2\")\" -- \"${1%/}\" \\\n"
        "    /etc/apt/sources.list /etc/apt/sources.list.d/ | grep -qv ':[[:space:]]*#'\n"
        "}\n"
    ),
    repo_line="deb [signed-by={key}] {url} {suite}{components}\n",
    repo_format="deb",
    repo_library="os/pinned-repo.sh.j2",
    image_update="apt-get update",
    image_update_if_stale=("{ test -n \"$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -30 "
                           "-print -quit)\" || apt-get update; }"),
    image_install="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends",
    image_cache_mounts=("--mount=type=cache,target=/var/cache/apt,sharing=locked",
                        "--mount=type=cache,target=/var/lib/apt,sharing=locked"),
    # Packages stay in BuildKit's cache mounts, never in a layer; docker-clean would empty them.
    image_cache_prepare=("rm -f /etc/apt/apt.conf.d/docker-clean",),
    image_cleanup=("rm -rf /var/lib/apt/lists/*",),
    image_unpinned_rule="DL3008",
    image_cache_rules=(),                         # hadolint sees apt's cache mounts itself
    ansible_package_module="ansible.builtin.apt",
    ansible_install_args=(("install_recommends", False),),
    ansible_refresh_args=(("update_cache", True), ("cache_valid_time", 3600)),
    ansible_refresh_now=(("update_cache", True),),
    ansible_lock_args=(("lock_timeout", 600),),
    ansible_hold_module="ansible.builtin.dpkg_selections",
    ansible_hold_args=(("selection", "hold"),),
    ansible_key_module="",                        # apt reads the signed-by file itself
    ansible_check_module="apt",
    ansible_check_fact="toolkit_has_python_apt",
    ansible_module_packages=("python3-apt",),
)

def _rhel_mirror(distro: str, version: str, mirror: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """network.apt_mirror on a RHEL rebuild: BaseOS and AppStream (and EPEL's layout is the mirror's own) from
    MIRROR/<version>/<repo>/$basearch/os/, the layout of Rocky's and AlmaLinux's mirrors."""
    mirror = mirror.rstrip("/")
    text = "".join(f"[toolkit-{repo.lower()}]\nname=toolkit mirror: {distro} {version} {repo}\n"
                   f"baseurl={mirror}/{version}/{repo}/$basearch/os/\nenabled=1\ngpgcheck=1\n\n"
                   for repo in ("BaseOS", "AppStream"))
    own = {"rocky": ("rocky.repo",), "almalinux": ("almalinux-baseos.repo", "almalinux-appstream.repo",
                                                    "almalinux.repo")}.get(distro, ())
    return (("/etc/yum.repos.d/toolkit-mirror.repo", text),), tuple(f"/etc/yum.repos.d/{f}" for f in own)


# by name or name-version-release (kernel-devel-$(uname -r)), else by what an installed package provides
_RPM_PROVIDES = '{ rpm -q --quiet -- "$p" || rpm -q --quiet --whatprovides -- "$p"; }'
_DNF = ("dnf", "-y", "--setopt=install_weak_deps=False")

# Rocky Linux and AlmaLinux 8/9 (RHEL rebuilds; CentOS's successors). Packages are asked of rpm by what
# they provide, so `curl` is satisfied by Rocky 9's curl-minimal, as dnf itself sees it. Holds use dnf's
# versionlock plugin (python3-dnf-plugin-versionlock), which setup.sh installs before the first hold.
DNF = OsFamily(
    name="rhel",
    distros=("rocky", "almalinux"),
    package_manager="dnf",
    packages_kind="DnfPackages",
    version_separator="-",
    codenames=(("rocky", "8", "el8"), ("rocky", "9", "el9"), ("almalinux", "8", "el8"), ("almalinux", "9", "el9")),
    mirror_files=_rhel_mirror,
    installed_probe=f'for p in "$@"; do {_RPM_PROVIDES} || exit 1; done',
    package_functions=_package_functions(
        f"    {_RPM_PROVIDES} || return 1\n",
        '    dnf -q versionlock list 2>/dev/null | grep -q -- "^${p}-[0-9]" || return 1\n'),
    update_lists=("dnf", "-q", "makecache"),
    install=(*_DNF, "install", "--"),
    hold=("dnf", "-q", "versionlock", "add", "--"),
    unhold=("dnf", "-q", "versionlock", "delete", "--"),
    environment=(),                              # dnf -y asks nothing
    script_library="os/rhel.sh.j2",
    script_install="dnf_install",
    script_lists_stale="TOOLKIT_DNF_UPDATED=0",
    config_dir="/etc/yum.repos.d",
    ca_dir="/etc/pki/ca-trust/source/anchors",
    ca_prefix="toolkit-",
    ca_update=("update-ca-trust", "extract"),
    ca_bundle="/etc/pki/tls/certs/ca-bundle.crt",
    ca_packages=("ca-certificates",),
    python_venv_packages=("python3",),
    pip_wheel_dir="/usr/share/python3-wheels",
    pip_module_packages=("python3-packaging",),   # what the pip module imports (the --check probe asks for it)
    repo_tools=("ca-certificates", "curl", "gnupg2"),
    sources_dir="/etc/yum.repos.d",
    sources_suffix=".repo",
    keyring_dir="/etc/pki/rpm-gpg",
    arch_variable="$basearch",
    # exit 0 when a .repo file other than OWN_FILE already names URL as a baseurl the host set up itself.
    repo_configured=(
        "repo_configured() {\n"
        "  grep -rsF --include='*.repo' --exclude=\"$(basename \"$2\")\" -- \"${1%/}\" /etc/yum.repos.d/ \\\n"
        "    | grep -qv ':[[:space:]]*#'\n"
        "}\n"
    ),
    repo_line=("[{name}]\nname={name}\nbaseurl={url}\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=0\n"
               "gpgkey=file://{key}\n"),
    repo_format="rpm",
    repo_library="os/pinned-repo.sh.j2",
    image_update="dnf -q makecache",
    image_install="dnf install -y --setopt=install_weak_deps=False --setopt=keepcache=True",
    image_cache_mounts=("--mount=type=cache,target=/var/cache/dnf,sharing=locked",),
    image_cache_prepare=(),                      # keepcache is set per command, not in the image's dnf.conf
    image_cleanup=("dnf clean all", "rm -rf /var/cache/dnf/*"),
    image_unpinned_rule="DL3041",
    image_cache_rules=("DL3040",),
    ansible_package_module="ansible.builtin.dnf",
    ansible_install_args=(("install_weak_deps", False),),
    ansible_refresh_args=(("update_cache", True),),
    ansible_refresh_now=(("update_cache", True),),
    ansible_lock_args=(("lock_timeout", 600),),
    ansible_hold_module="ansible.builtin.command",   # `hold` as argv (ansible_gpu; no collection needed)
    ansible_hold_args=(),
    ansible_key_module="ansible.builtin.rpm_key",
    ansible_check_module="dnf",
    ansible_check_fact="toolkit_has_python_dnf",
    ansible_module_packages=("python3-dnf",),
)

FAMILIES: tuple[OsFamily, ...] = (DEBIAN, DNF)


def get(name: str) -> OsFamily:
    """The family called `name` (a step's `family` field)."""
    for family in FAMILIES:
        if family.name == name:
            return family
    raise ValueError(f"unknown OS family {name!r}; known: {', '.join(f.name for f in FAMILIES)}")


def for_distro(distro: str) -> OsFamily:
    """The family a target distro belongs to."""
    for family in FAMILIES:
        if distro in family.distros:
            return family
    raise ValueError(f"no OS family knows distro {distro!r}; known: "
                     f"{', '.join(d for f in FAMILIES for d in f.distros)}")


# Fields a family may leave empty: nothing to prepare before using the cache mounts, no environment needed;
# no freshness test of its own (dnf's makecache already keeps metadata that has not expired).
OPTIONAL = ("image_cache_prepare", "environment", "image_cache_rules", "ansible_key_module", "ansible_hold_args",
            "image_update_if_stale")


def missing_fields(family: OsFamily) -> list[str]:
    """The fields a family left empty (every renderer needs every field)."""
    empty = [f.name for f in fields(family) if getattr(family, f.name) in ("", (), None) and f.name not in OPTIONAL]
    return empty
