"""The closed set of step types a plan is made of.

A step is a small frozen dataclass. It says *what* to do, never in which format;
renderers and executors turn it into Dockerfile, bash, Ansible or remote commands.
Every step can say how to tell whether it is already done: `probe()` returns an argv
that exits 0 exactly when the step has nothing left to do (None: always run).
Adding a step type means: a dataclass here (STEP_TYPES is derived from the classes) and one
function in each renderer (their dispatch checks it is exhaustive); docs/architecture.md. Nothing
here names a package manager: what differs between OS families (install/probe commands, trust
store, repositories) is asked of toolkit.model.osfamily.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.model import host_accounts, host_probes, osfamily
from toolkit.model.registry import declared_in


@dataclass(frozen=True)
class Step:
    component: str
    title: str

    @property
    def kind(self) -> str:
        return type(self).__name__

    def probe(self) -> tuple[str, ...] | None:
        return None


@dataclass(frozen=True)
class OsPackages(Step):
    """Packages from the OS family's package manager (`family`: an osfamily name)."""

    packages: tuple[str, ...] = ()
    family: str = "debian"

    @property
    def kind(self) -> str:
        # Plans, logs and state files keep showing the package manager's own kind ("AptPackages").
        return osfamily.get(self.family).packages_kind

    def probe(self):
        f = osfamily.get(self.family)
        return ("sh", "-c", f.installed_probe, "probe", *[f.package_name(p) for p in self.packages])


@dataclass(frozen=True)
class WriteFile(Step):
    """A file with this content. `hosts_only`: images leave it out (a key belongs in no image layer: mount it at
    run time); `secret`: its content is never shown (plan JSON, Ansible's log and --diff)."""

    path: str = ""
    content: str = ""
    mode: str = "0644"
    owner: str = "root"
    sha256: str = ""
    hosts_only: bool = False
    secret: bool = False

    def probe(self):
        return ("sh", "-c", 'echo "$1  $2" | sha256sum -c --status', "probe", self.sha256, self.path)


@dataclass(frozen=True)
class TrustCA(Step):
    """Install PEM certificates into the system trust store (the OS family's ca_update)."""

    files: tuple[WriteFile, ...] = ()
    bundle: str = osfamily.DEBIAN.ca_bundle

    def probe(self):
        # Done when every certificate file is in place and the bundle was rebuilt after it.
        script = (
            'b="$1"; shift; while [ $# -gt 0 ]; do '
            'echo "$1  $2" | sha256sum -c --status || exit 1; '
            '[ "$b" -nt "$2" ] || exit 1; shift 2; done'
        )
        pairs = [x for f in self.files for x in (f.sha256, f.path)]
        return ("sh", "-c", script, "probe", self.bundle, *pairs)


# Docker's predefined proxy build args: a build sees them without an ARG line, and then they stay out
# of `docker history` (credentials in a proxy URL included).
PROXY_VARIABLES = frozenset(n for base in ("http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy")
                            for n in (base, base.upper()))
# The variables that point pip, requests, curl, git and node at the CA bundle (network.ca_certificates).
CA_ENV = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS")


@dataclass(frozen=True)
class Environment(Step):
    """Variables for every later step and for the user's sessions (/etc/profile.d, ENV)."""

    variables: tuple[tuple[str, str], ...] = ()
    build_only: bool = False   # proxy settings: present while installing, not left behind


@dataclass(frozen=True)
class CreateUser(Step):
    name: str = ""
    uid: int = 1000
    gid: int = 1000
    shell: str = "/bin/bash"
    home: str = ""
    sudo: bool = False

    def probe(self):
        expected = f"{self.name}:{self.uid}:{self.gid}:{self.home}:{self.shell}"
        return ("sh", "-c", 'getent passwd "$1" | cut -d: -f1,3,4,6,7 | grep -qx "$2"', "probe", self.name, expected)


@dataclass(frozen=True)
class Venv(Step):
    path: str = ""
    python: str = "python3"
    owner: str = "root"
    # A venv of build tools (uv): hosts keep it; a BuildKit image build keeps it in a cache mount, never
    # in a layer (the steps that use it mount it and make it when the cache is empty).
    build_tool: bool = False

    def probe(self):
        return ("test", "-x", f"{self.path}/bin/python")


@dataclass(frozen=True)
class PipInstall(Step):
    venv: str = ""
    requirements: tuple[str, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: str | None = None          # a wheelhouse folder on the target
    no_index: bool = False
    # Locked: install exactly this file's hashed pins (--require-hashes --no-deps) instead of
    # `requirements`, which then name the same pins for the probe.
    requirement_file: str | None = None
    # Unlocked requirement files on the target (packages.pip_requirements): pip install -r FILE...;
    # `requirements` then name their entries for the lock's resolver, and are not installed by themselves.
    requirement_files: tuple[str, ...] = ()
    # python.installer: uv: install with this uv binary (`uv pip install --python VENV/bin/python`), not pip.
    uv: str | None = None

    def probe(self):
        if self.requirement_files and not self.requirement_file:
            return (f"{self.venv}/bin/python", "-c", host_probes.REQUIREMENT_FILES_PROBE, *self.requirement_files)
        # Exits 0 when every requirement is already satisfied in the venv.
        code = (
            "import sys\n"
            "from importlib.metadata import version, PackageNotFoundError\n"
            "from pip._vendor.packaging.requirements import Requirement\n"
            "for spec in sys.argv[1:]:\n"
            "    r = Requirement(spec)\n"
            "    try:\n"
            "        v = version(r.name)\n"
            "    except PackageNotFoundError:\n"
            "        sys.exit(1)\n"
            "    if not r.specifier.contains(v, prereleases=True):\n"
            "        sys.exit(1)\n"
        )
        return (f"{self.venv}/bin/python", "-c", code, *self.requirements)


@dataclass(frozen=True)
class GitConfig(Step):
    settings: tuple[tuple[str, str], ...] = ()
    lfs: bool = False

    def probe(self):
        script = 'while [ $# -gt 0 ]; do [ "$(git config --system --get "$1")" = "$2" ] || exit 1; shift 2; done'
        if self.lfs:
            script = 'git config --system --get filter.lfs.process >/dev/null || exit 1; ' + script
        return ("sh", "-c", script, "probe", *[x for kv in self.settings for x in kv])


@dataclass(frozen=True)
class Service(Step):
    """A long-running command: the image's CMD (in_image) and/or a systemd unit on hosts (enable_on_host).

    An image starts one process: at most one in_image service per plan (toolkit.plan.validate).
    On hosts, `secret_variable` (a token) lives in `secret_file`, made on the host from its own random
    source when absent and kept when present: never in the plan, the rendered files or a command line.
    """

    name: str = ""
    command: tuple[str, ...] = ()          # in images (CMD)
    in_image: bool = True                  # owns the image's CMD (and HEALTHCHECK, EXPOSE)
    user: str = "root"
    port: int | None = None
    healthcheck: tuple[str, ...] = ()
    enable_on_host: bool = False
    host_command: tuple[str, ...] = ()     # on hosts (systemd), when it differs from `command`
    # On hosts only (images take their secret at `docker run` time and their variables from ENV):
    environment: tuple[tuple[str, str], ...] = ()   # the unit's own variables, before the profile's env
    secret_file: str = ""                  # a root-only (0600) EnvironmentFile= of the unit, created when absent
    secret_variable: str = ""              # the variable secret_file must hold; generated on the host, never here
    needs_gpu: bool = False                # hosts without an NVIDIA GPU skip it (said so), as the driver steps


@dataclass(frozen=True)
class Metadata(Step):
    """Provenance: labels on images, /etc/toolkit/profile.json everywhere."""

    labels: tuple[tuple[str, str], ...] = ()
    profile_json: str = ""
    path: str = "/etc/toolkit/profile.json"


@dataclass(frozen=True)
class RunCommand(Step):
    """Escape hatch for what no typed step covers; argv only, never a shell string."""

    argv: tuple[str, ...] = ()
    creates: str | None = None     # done when this path exists
    unless: tuple[str, ...] = field(default=())  # done when this argv exits 0

    def probe(self):
        if self.creates:
            return ("test", "-e", self.creates)
        return self.unless or None


RUN_STATE_DIR = "/var/lib/toolkit/run"    # where hosts (and images) record the run: steps that ran


@dataclass(frozen=True)
class RunStep(Step):
    """One of the profile's own steps (run:): `argv` run as `user` in its home, never through a shell (a
    script is written to the target by a WriteFile step before it, and argv names it).

    Done when `creates` exists, when `unless` (run as the same user) exits 0, or, with neither, when
    RUN_STATE_DIR/name holds `digest` (sha256 of what it runs: argv, script text, user, env): such a step
    runs once, and again when what it runs changes. `hosts_only`: its user exists on hosts only (users:),
    images skip it.
    """

    name: str = ""
    argv: tuple[str, ...] = ()
    user: str = "root"
    home: str = "/root"
    env: tuple[tuple[str, str], ...] = ()
    creates: str | None = None
    unless: tuple[str, ...] = ()
    digest: str = ""
    hosts_only: bool = False

    @property
    def state_path(self) -> str:
        return f"{RUN_STATE_DIR}/{self.name}"

    def as_user(self, argv: tuple[str, ...]) -> tuple[str, ...]:
        """argv as the step's user (runuser), in its home, with HOME, USER, LOGNAME and the step's env set by
        env(1): every value one argument, nothing parsed by a shell."""
        env = ("env", "-C", self.home, "--", f"HOME={self.home}", f"USER={self.user}", f"LOGNAME={self.user}",
               *(f"{k}={v}" for k, v in self.env))
        return (*env, *argv) if self.user == "root" else ("runuser", "-u", self.user, "--", *env, *argv)

    def launch(self) -> tuple[str, ...]:
        return self.as_user(self.argv)

    def probe(self):
        if self.creates:
            return ("test", "-e", self.creates)
        if self.unless:
            return self.as_user(self.unless)
        return ("grep", "-qsxF", "--", self.digest, self.state_path)


@dataclass(frozen=True)
class CopyTree(Step):
    """A folder from the control machine (a wheelhouse) made available on the target."""

    source: str = ""      # local path, resolved at plan time
    dest: str = ""

    def probe(self):
        return ("test", "-d", self.dest)


@dataclass(frozen=True)
class PackageRepository(Step):
    """A package repository whose signing key is pinned by fingerprint (NVIDIA CUDA, container toolkit, DCGM).

    The key at key_url is trusted only when it is exactly the key with key_fingerprint (HTTPS alone would
    trust whatever a TLS-intercepting proxy hands out); it is installed as signed_by and the source entry
    written to the family's sources folder as `name`. A host that already has the repository (its own
    source entry naming url, or one of the keyring_packages installed) keeps its set-up.
    """

    name: str = ""                         # file stem of the source entry
    url: str = ""
    suite: str = "/"                       # "/" for a flat repository
    components: tuple[str, ...] = ()
    arch_in_url: bool = False              # url + the package manager's architecture variable
    key_url: str = ""
    key_fingerprint: str = ""              # 40 hex digits, the primary key's
    signed_by: str = ""                    # where the key is installed
    keyring_packages: tuple[str, ...] = ()  # any of them installed: the repository is set up already
    family: str = "debian"

    @property
    def source_path(self) -> str:
        return osfamily.get(self.family).source_path(self.name)

    def source_line(self) -> str:
        f = osfamily.get(self.family)
        url = self.url + (f.arch_variable if self.arch_in_url else "")
        return f.repo_line.format(name=self.name, key=self.signed_by, url=url, suite=self.suite,
                                  components="".join(" " + c for c in self.components))

    def probe(self):
        return ("sh", "-c", repo_probe(self.family), "probe", self.url, self.source_path, self.source_line(),
                self.signed_by, self.key_fingerprint, *self.keyring_packages)


def repo_present(family: str) -> str:
    """sh: repo_present URL OWN_FILE PACKAGE...: the host set this repository up itself."""
    f = osfamily.get(family)
    return f.package_functions + f.repo_configured + (
        "repo_present() {\n"
        '  local url="$1" own="$2" p\n'
        "  shift 2\n"
        '  for p in "$@"; do if installed "$p"; then return 0; fi; done\n'
        '  repo_configured "$url" "$own"\n'
        "}\n")


def repo_probe(family: str) -> str:
    """sh: probe URL FILE LINE KEY FINGERPRINT PACKAGE...: present already, or our entry and pinned key are."""
    return repo_present(family) + host_probes.KEY_CHECK + (
        'url="$1"; file="$2"; line="$3"; key="$4"; fpr="$5"; shift 5\n'
        'if repo_present "$url" "$file" "$@"; then exit 0; fi\n'
        '[ "$(cat "$file" 2>/dev/null; echo x)" = "$(printf \'%s\' "$line"; echo x)" ] && key_is "$key" "$fpr" 2>/dev/null\n')


@dataclass(frozen=True)
class NvidiaDriver(Step):
    """The NVIDIA kernel driver on a host; images never get one (the host's driver is mounted in).

    Nothing to do where the host has no NVIDIA GPU (install_mode "auto": skipped, not failed) or
    already runs a driver >= min_version (adopted: Lambda Stack, cloud DL images). Packages whose
    name depends on the running kernel are `kernel_prefix` + `uname -r` (and + the kernel
    flavour's metapackage suffix, so later kernels get theirs too).
    """

    strategy: str = "ubuntu-signed"        # ubuntu-signed | cuda-repo | dkms (never "auto" here)
    branch: str = ""
    packages: tuple[str, ...] = ()
    kernel_prefix: str = ""                # linux-modules-nvidia-550-server- / linux-headers-
    lock: bool = True                      # hold the driver (and, signed, the kernel metapackages)
    blacklist_nouveau: bool = True
    min_version: str = ""                  # the driver the plan's CUDA needs
    install_mode: str = "auto"             # auto | always
    repository: PackageRepository | None = None   # cuda-repo: NVIDIA's CUDA repository, set up first
    module_stream: str = ""                # RHEL family: the nvidia-driver module stream (550-open, 550-dkms)

    @property
    def family(self) -> str:
        return self.repository.family if self.repository is not None else "debian"

    def probe(self):
        return ("sh", "-c", host_probes.driver_probe(self.family), "probe", self.install_mode, self.min_version,
                "1" if self.lock else "0", self.kernel_prefix, *self.packages)


@dataclass(frozen=True)
class ContainerToolkit(Step):
    """NVIDIA Container Toolkit on a host, with Docker's nvidia runtime merged into daemon.json."""

    packages: tuple[str, ...] = ("nvidia-container-toolkit",)
    repository: PackageRepository | None = None   # NVIDIA's libnvidia-container repository
    install_mode: str = "auto"

    def probe(self):
        family = self.repository.family if self.repository is not None else "debian"
        return ("sh", "-c", host_probes.container_toolkit_probe(family), "probe", self.install_mode,
                *self.packages)


def repositories(steps) -> tuple[PackageRepository, ...]:
    """Every repository the steps set up: PackageRepository steps and those inside the GPU steps."""
    out = []
    for s in steps:
        if isinstance(s, PackageRepository):
            out.append(s)
        elif isinstance(s, (NvidiaDriver, ContainerToolkit)) and s.repository is not None:
            out.append(s.repository)
    return tuple(out)


# --------------------------------------------------------------------------- hosts: users, folders, mounts
# Groups, Account, AuthorizedKeys and Mount are host-only (images leave `users` and `mounts` out); Directory
# is made on hosts and in images. Their scripts are in toolkit.model.host_accounts.
@dataclass(frozen=True)
class Groups(Step):
    """Unix groups on hosts, created when missing: (name, gid) pairs, gid 0 when the host picks it."""

    groups: tuple[tuple[str, int], ...] = ()

    def args(self) -> tuple[str, ...]:
        return tuple(x for name, gid in self.groups for x in (name, str(gid)))

    def probe(self):
        return ("sh", "-c", host_accounts.GROUPS_PROBE, "probe", *self.args())


@dataclass(frozen=True)
class Account(Step):
    """A login account on hosts (`users:`): its own group (made by a Groups step before), supplementary groups
    added to (never taken away), sudo rights in its own sudoers file (checked with visudo) or none."""

    name: str = ""
    uid: int = 0
    gid: int = 0
    home: str = ""
    shell: str = "/bin/bash"
    groups: tuple[str, ...] = ()
    sudo: bool = False

    @property
    def sudoers_path(self) -> str:
        return f"/etc/sudoers.d/toolkit-{self.name}"

    @property
    def sudoers_line(self) -> str:
        return f"{self.name} ALL=(ALL:ALL) NOPASSWD: ALL"

    def args(self) -> tuple[str, ...]:
        return (self.name, str(self.uid), str(self.gid), self.home, self.shell, "1" if self.sudo else "0",
                self.sudoers_path, self.sudoers_line, *self.groups)

    def probe(self):
        return ("sh", "-c", host_accounts.ACCOUNT_PROBE, "probe", *self.args())


@dataclass(frozen=True)
class AuthorizedKeys(Step):
    """Public keys added to an account's ~/.ssh/authorized_keys (0700/0600, written as the account itself)."""

    user: str = ""
    home: str = ""
    keys: tuple[str, ...] = ()

    def as_user(self, script: str, name: str) -> tuple[str, ...]:
        return ("runuser", "-u", self.user, "--", "sh", "-c", script, name, self.home, *self.keys)

    def probe(self):
        return self.as_user(host_accounts.KEYS_PROBE, "probe")


@dataclass(frozen=True)
class Directory(Step):
    """A folder with owner, group and mode (the folder itself, never its contents). In images, an owner or
    group images do not have (an account of `users`) is written as its number: uid, gid."""

    path: str = ""
    owner: str = "root"
    group: str = "root"
    mode: str = "0755"
    uid: int | None = None
    gid: int | None = None

    def probe(self):
        return ("sh", "-c", host_accounts.DIRECTORY_PROBE, "probe", self.path,
                f"{self.owner}:{self.group}:{host_accounts.octal(self.mode)}")


@dataclass(frozen=True)
class Mount(Step):
    """A file system mounted at path on a host, now and at boot (/etc/fstab). Never formats a device that has
    anything on it; `format` makes one on an empty device only when apply is given --allow-format."""

    device: str = ""
    path: str = ""
    fstype: str = ""
    options: tuple[str, ...] = ()
    format: bool = False

    def args(self) -> tuple[str, ...]:
        passno = "2" if self.fstype.startswith("ext") else "0"
        return (self.device, self.path, self.fstype, ",".join(self.options) or "defaults", passno)

    def probe(self):
        return ("sh", "-c", host_accounts.MOUNT_PROBE, "probe", *self.args())

    def apply(self, allow_format: str) -> tuple[str, ...]:
        """The apply argv; allow_format is the "1"/"0" word the format needs (from apply --allow-format)."""
        return ("sh", "-c", host_accounts.MOUNT_APPLY, "mount", *self.args(), "1" if self.format else "0",
                allow_format)


HOST_ONLY_STEPS = (Groups, Account, AuthorizedKeys, Mount)


# The closed set of step types: every Step subclass declared in this module.
STEP_TYPES: tuple[type[Step], ...] = declared_in(Step, __name__)
