"""The profile schema: strict pydantic models.

Every string that later reaches a shell, a Dockerfile or YAML is checked against a
pattern from `patterns`; unknown keys and wrong types are errors (strict mode).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from toolkit.profile import hosts_policy as H
from toolkit.profile import patterns as P
from toolkit.profile import policy


def _pattern(pattern):
    return AfterValidator(lambda v: P.check(pattern, v))


def _rule(problem):
    """A validator from a policy function that returns None (fine) or why not."""
    def validate(value: str) -> str:
        why = problem(value)
        if why:
            raise ValueError(why)
        return value
    return AfterValidator(validate)


def _no_dotdot(value: str) -> str:
    if ".." in value.split("/"):
        raise ValueError(f"'..' is not allowed in paths, got {value!r}")
    return value


Version = Annotated[str, _pattern(P.VERSION)]
AptPackage = Annotated[str, _pattern(P.APT_PACKAGE)]
PipRequirement = Annotated[str, _pattern(P.PIP_REQUIREMENT), _rule(policy.requirement_problem)]
UnixName = Annotated[str, _pattern(P.UNIX_NAME)]
AbsPath = Annotated[str, _pattern(P.ABS_PATH), AfterValidator(_no_dotdot)]
LocalPath = Annotated[str, _pattern(P.LOCAL_PATH)]
EnvName = Annotated[str, _pattern(P.ENV_NAME), _rule(policy.env_name_problem)]
EnvValue = Annotated[str, AfterValidator(lambda v: P.check_quiet(P.ENV_VALUE, v)), _rule(policy.env_value_problem)]
VenvPath = Annotated[AbsPath, _rule(policy.venv_path_problem)]
FreeText = Annotated[str, AfterValidator(P.free_text)]
Url = Annotated[str, _pattern(P.URL)]
NoProxy = Annotated[str, _pattern(P.NO_PROXY_ENTRY)]
ImageRef = Annotated[str, _pattern(P.IMAGE_REF)]
GitKey = Annotated[str, _pattern(P.GIT_CONFIG_KEY)]
SafeText = Annotated[str, _pattern(P.SAFE_TEXT)]
CheckArg = Annotated[str, _pattern(P.CHECK_ARG)]
RunArg = Annotated[str, AfterValidator(P.run_arg)]
IpAddress = Annotated[str, AfterValidator(P.ip_address)]
AutoVersion = Annotated[str, AfterValidator(lambda v: v if v == "auto" else P.check(P.VERSION, v))]
DriverBranch = Annotated[str, AfterValidator(lambda v: v if v == "auto" else P.check(P.DRIVER_BRANCH, v))]
SystemOrVersion = Annotated[str, AfterValidator(lambda v: v if v == "system" else P.check(P.VERSION, v))]
GroupName = Annotated[UnixName, _rule(H.group_problem)]
LoginShell = Annotated[AbsPath, _rule(H.shell_problem)]
DirPath = Annotated[AbsPath, _rule(H.directory_path_problem)]
DirMode = Annotated[str, BeforeValidator(H.check_mode_type), _rule(H.mode_problem)]
MountDevice = Annotated[str, _rule(H.device_problem)]
MountPath = Annotated[AbsPath, _rule(H.mount_path_problem)]
MountOption = Annotated[str, _rule(H.option_problem)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OS(Strict):
    """Target operating system."""

    distro: Literal["ubuntu", "debian", "rocky", "almalinux"] = "ubuntu"
    version: Version = "22.04"
    base_image: ImageRef | None = Field(
        default=None, description="Container base image override (mirrors, air-gapped registries)."
    )

    # Which releases are supported is the compatibility data's `os:` table (one source of truth); the
    # resolver refuses the others with the list it knows.


class Driver(Strict):
    """The NVIDIA kernel driver on hosts (setup script, Ansible). Images never get one: it comes from the host."""

    install: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto: on hosts with an NVIDIA GPU and no suitable driver (a running driver "
        "new enough is adopted, not replaced); always: even where no GPU is seen; never: leave the driver alone.")
    branch: DriverBranch = Field(
        default="auto", description="Driver branch (major version) such as \"550\"; auto: the branch of the "
        "driver the chosen CUDA needs.")
    strategy: Literal["auto", "ubuntu-signed", "cuda-repo", "dkms"] = Field(
        default="auto", description="auto: Canonical's signed prebuilt modules on Ubuntu (Secure Boot works), "
        "NVIDIA's CUDA repository (DKMS) on Debian; on Rocky/AlmaLinux cuda-repo only (its nvidia-driver module "
        "streams).")
    lock: bool = Field(default=True, description="apt-mark hold (dnf versionlock) the driver packages so upgrades cannot cause "
                       "'Driver/library version mismatch'.")
    open_kernel_modules: bool | Literal["auto"] = Field(
        default="auto", description="NVIDIA's open kernel modules (Turing or newer; Blackwell needs them). auto: "
        "open from branch 560 on (NVIDIA's default), proprietary before.")


class GPU(Strict):
    """NVIDIA GPU stack. enabled: false means a CPU-only environment."""

    enabled: bool = False
    cuda: AutoVersion = "auto"
    cudnn: AutoVersion = "auto"
    min_driver: Version | None = Field(default=None, description="Lowest NVIDIA driver the hosts run.")
    nvcc: bool = Field(default=False, description="Install the CUDA toolkit with nvcc (devel image).")
    driver: Driver = Field(default_factory=Driver)
    container_toolkit: bool = Field(
        default=False, description="Install the NVIDIA Container Toolkit on hosts and add its runtime to Docker "
        "(nvidia-ctk merges into /etc/docker/daemon.json after a backup).")


class Python(Strict):
    version: SystemOrVersion = "system"
    venv: VenvPath = Field(default="/opt/venv", description="The virtual environment: a folder of its own "
                           "(handed to the user with chown -R); system folders are refused.")
    installer: Literal["pip", "uv"] = Field(
        default="pip",
        description="pip: the OS's python3 creates the venv. uv: uv provides the interpreter and creates the "
                    "venv (for Pythons the OS lacks); packages then install with the venv's own pip.")


class PyTorch(Strict):
    version: Version
    extras: list[Literal["torchvision", "torchaudio"]] = Field(default_factory=list)


class TensorFlow(Strict):
    version: Version
    and_cuda: bool = Field(default=True, description="Use tensorflow[and-cuda] pip CUDA libraries on GPU.")


class Keras(Strict):
    version: Version


class Jax(Strict):
    version: Version


class Frameworks(Strict):
    pytorch: PyTorch | None = None
    tensorflow: TensorFlow | None = None
    keras: Keras | None = None
    jax: Jax | None = None


class Packages(Strict):
    apt: list[AptPackage] = Field(default_factory=list)
    pip_base: list[PipRequirement] = Field(
        default_factory=list,
        description="pip requirements that rarely change (e.g. NumPy, Pandas): their own layer after the "
                    "frameworks, so editing `pip` rebuilds only the last layer.")
    pip: list[PipRequirement] = Field(
        default_factory=list, description="Your pip requirements: the last layer, the one edits rebuild.")
    pip_requirements: list[LocalPath] = Field(
        default_factory=list,
        description="pip requirement files (relative to the profile), installed in their own layer after pip_base "
                    "and before pip: comments, -r/-c includes (relative, inside the file's folder), extras, markers, "
                    "`name @ https://...` URLs and git+https URLs pinned to a commit, --hash. Index options go in "
                    "network.pip, local paths and -e are refused.")


BASE_URL = r"^/([A-Za-z0-9._~-]+/)*$"


def _base_url(value: str) -> str:
    if not re.fullmatch(BASE_URL, value) or len(value) > 200 or "/../" in value or "/./" in value:
        raise ValueError(f"expected a URL path that starts and ends with '/' (letters, digits, . _ ~ -), "
                         f"such as /jupyter/, got {value[:64]!r}")
    return value


class JupyterProxy(Strict):
    tls: bool = Field(default=False, description="Nginx (OS package) in front of Jupyter: HTTPS on `port` with a "
                      "self-signed certificate made at first start in /var/lib/toolkit/tls (or the jupyter.pem and "
                      "jupyter.key you put there, or `cert` and `key`), HTTP on 80 redirected to HTTPS, websockets "
                      "passed; Jupyter itself listens on 127.0.0.1 only and still requires its token.")
    port: int = Field(default=443, ge=1, le=65535)
    base_url: Annotated[str, AfterValidator(_base_url)] = Field(
        default="/", description="The path Jupyter is served under (its ServerApp.base_url), e.g. /jupyter/.")
    cert: LocalPath | None = Field(default=None, description="Hosts: a PEM certificate file (relative to the "
                                   "profile; the chain after the server's certificate) installed as "
                                   "/var/lib/toolkit/tls/jupyter.pem instead of the self-signed one. Needs `key`. "
                                   "Images leave both out: mount them at /var/lib/toolkit/tls at run time.")
    key: LocalPath | None = Field(default=None, description="Hosts: the certificate's PEM private key file (relative "
                                  "to the profile, unencrypted), installed root-only (0600) as "
                                  "/var/lib/toolkit/tls/jupyter.key; never shown in plans, logs or Ansible diffs.")

    @model_validator(mode="after")
    def _cert_and_key(self):
        if (self.cert is None) != (self.key is None):
            raise ValueError("jupyter.proxy.cert and jupyter.proxy.key go together: give both, or neither (a "
                             "self-signed certificate is made at first start)")
        if self.cert is not None and not self.tls:
            raise ValueError("jupyter.proxy.cert and key need jupyter.proxy.tls: true")
        return self


class Jupyter(Strict):
    enabled: bool = False
    flavor: Literal["lab", "notebook"] = "lab"
    port: int = Field(default=8888, ge=1, le=65535)
    ip: IpAddress | None = Field(default=None, description="Listen address (an IPv4 or IPv6 address); default "
                                 "0.0.0.0 in containers, 127.0.0.1 on hosts.")
    auth: Literal["token", "password"] = Field(
        default="token", description="Images: supplied at run time (JUPYTER_TOKEN / JUPYTER_PASSWORD_HASH), never "
        "stored. Hosts with service: true: read from the root-only /etc/toolkit/jupyter.env, where apply makes a "
        "token (`toolkit jupyter-token` shows it); with password, add JUPYTER_PASSWORD_HASH there."
    )
    service: bool = Field(default=False, description="Run as a systemd service on hosts (toolkit-jupyter.service), "
                          "as user.name, with the profile's env; on 127.0.0.1 unless ip says otherwise.")
    proxy: JupyterProxy = Field(default_factory=JupyterProxy)
    hub: bool = Field(default=False, description="Hosts: JupyterHub (PyPI) with configurable-http-proxy (npm) as "
                      "toolkit-jupyterhub.service (root), one single-user server per account in `users:`, each run as "
                      "that account; behind the proxy (needs proxy.tls), on loopback; PAM logins: set each "
                      "account's password on the host (`passwd NAME`), an account without one cannot log in. Images "
                      "run a single Jupyter (their CMD) instead; not with service: true.")


class Monitoring(Strict):
    node_exporter: bool = Field(default=False, description="Hosts: Prometheus node exporter from the OS packages, "
                                "run as toolkit-node_exporter.service on listen:9100.")
    gpu_exporter: bool = Field(default=False, description="GPU hosts: an NVML exporter (nvidia-ml-py + "
                               "prometheus-client, its own venv) as toolkit-gpu_exporter.service on listen:9400; "
                               "skipped on hosts without an NVIDIA GPU, as the driver steps are.")
    listen: IpAddress = Field(default="0.0.0.0", description="Address the exporters listen on (an IPv4 or IPv6 "
                              "address). Anyone who reaches it reads the metrics: firewall the ports "
                              "(docs/monitoring.md).")


class Git(Strict):
    enabled: bool = True
    lfs: bool = False
    allow_unsafe_config: bool = Field(
        default=False, description="Allow git.config keys that make git run programs (core.pager, "
        "credential.helper, filter.*, ...) or weaken TLS and ownership checks (http.sslVerify, safe.directory).")
    config: dict[GitKey, SafeText] = Field(default_factory=dict)


class User(Strict):
    create: bool = True
    name: UnixName = "dev"
    uid: int = Field(default=1000, ge=1, le=60000)
    gid: int = Field(default=1000, ge=1, le=60000)
    shell: AbsPath = "/bin/bash"
    sudo: bool = False


class Proxy(Strict):
    http: Url | None = None
    https: Url | None = None
    no_proxy: list[NoProxy] = Field(default_factory=list)
    keep_in_image: bool = Field(default=False, description="Leave proxy settings in the final image.")


class PipIndex(Strict):
    index_url: Url | None = None
    extra_index_urls: list[Url] = Field(default_factory=list)


class Network(Strict):
    proxy: Proxy = Field(default_factory=Proxy)
    ca_certificates: list[LocalPath] = Field(
        default_factory=list, description="PEM files (relative to the profile) trusted by apt, pip, curl and git."
    )
    apt_mirror: Url | None = None
    pip: PipIndex = Field(default_factory=PipIndex)
    wheelhouse: LocalPath | None = Field(default=None, description="Local folder of wheels (relative to the profile).")
    offline: bool = Field(default=False, description="Install pip packages from the wheelhouse only.")

    @model_validator(mode="after")
    def _offline_needs_wheelhouse(self):
        if self.offline and not self.wheelhouse:
            raise ValueError("offline: true needs network.wheelhouse (a folder of wheels)")
        return self


class Account(Strict):
    """A login account on hosts (setup.sh, Ansible); images leave `users` out (their one user is `user:`)."""

    name: UnixName
    uid: int = Field(ge=1000, le=60000, description="The same uid on every host, so files on shared disks and "
                     "NFS keep their owner.")
    gid: int | None = Field(default=None, ge=1000, le=60000, description="gid of the user's own group (named like "
                            "the user); default: the uid.")
    groups: list[GroupName] = Field(default_factory=list, description="Supplementary groups, created when missing "
                                    "(the host picks their gid); added to, never taken away.")
    sudo: bool = Field(default=False, description="sudo without a password (the account has none: it logs in with "
                       "its keys), in /etc/sudoers.d/toolkit-NAME checked with visudo; false removes that file.")
    shell: LoginShell = Field(default="/bin/bash", description="A login shell toolkit knows (bash, sh, dash, zsh, "
                              "fish, nologin, false); zsh and fish are installed when named.")
    authorized_keys: list[LocalPath] = Field(
        default_factory=list, description="OpenSSH public key files (relative to the profile) whose keys are added "
        "to ~/.ssh/authorized_keys; keys with options (command=, from=...) and private keys are refused.")


class DataDirectory(Strict):
    """A folder with its owner, group and mode, on hosts and in images (mkdir -p; the folder only, never its
    contents). In images an owner or group from `users` is written as its number."""

    path: DirPath
    owner: UnixName = Field(default="root", description="root, a `users` name, `user.name` or a system user "
                            "(daemon, nobody, www-data).")
    group: UnixName = Field(default="root", description="root, a group named in `users` (theirs or their own), "
                            "`user.name` or a system group (users, staff, adm, nogroup, video, www-data...).")
    mode: DirMode = Field(default="0755", description="Octal mode in quotes, e.g. \"2775\" (setgid: new files get "
                          "the folder's group); world-writable needs the sticky bit (1777).")


class Mount(Strict):
    """An existing file system mounted on hosts, now and after a reboot (an /etc/fstab entry); images leave
    `mounts` out."""

    device: MountDevice = Field(description=H.DEVICE_HELP + "; a /dev/ path is written to fstab as its UUID.")
    path: MountPath = Field(description="Where it is mounted (created when missing; a folder with files in it "
                            "is refused rather than hidden).")
    fstype: Literal[H.FSTYPES] = Field(description="File system type.")  # type: ignore[valid-type]
    options: list[MountOption] = Field(default_factory=list, description="Mount options, one per item "
                                       "(empty: defaults).")
    format: bool = Field(default=False, description="Make the file system when the device is empty (blkid finds "
                         "nothing) and apply is given --allow-format; a device with any file system or signature is "
                         "never formatted. Needs a /dev/ path.")


class ExtraCheck(Strict):
    name: Annotated[str, _pattern(P.PROFILE_NAME)]
    command: list[CheckArg] = Field(min_length=1)
    expect: SafeText | None = Field(default=None, description="Text the output must contain.")


class Run(Strict):
    """One of your own steps (run:): a script file or a command, run in order after the packages."""

    name: Annotated[str, _pattern(P.PROFILE_NAME)]
    script: LocalPath | None = Field(default=None, description="A script next to the profile (starting with #!), "
                                     "copied to the target and run; exactly one of script and command.")
    command: list[RunArg] | None = Field(default=None, min_length=1, description="argv, never through a shell: "
                                         "the first item is the program. Exactly one of script and command.")
    user: UnixName = Field(default="root", description="Who runs it: root, user.name (or a name from users:).")
    creates: AbsPath | None = Field(default=None, description="Done when this path exists (not run then).")
    unless: list[RunArg] | None = Field(default=None, min_length=1, description="Done when this argv exits 0 "
                                        "(run as the step's user). Without creates or unless a step runs once: "
                                        "hosts record it in /var/lib/toolkit/run/NAME and run it again when "
                                        "its script, command, user or env change.")
    env: dict[EnvName, EnvValue] = Field(default_factory=dict, description="Variables for this step only.")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.script is None) == (self.command is None):
            raise ValueError("give exactly one of script: (a file next to the profile) and command: (an argv list)")
        if self.creates is not None and self.unless is not None:
            raise ValueError("give creates: or unless:, not both")
        if self.command:
            P.program(self.command[0])
        if self.unless:
            P.program(self.unless[0])
        return self


class Profile(Strict):
    """A toolkit profile: one environment, from OS to frameworks."""

    name: Annotated[str, _pattern(P.PROFILE_NAME)]
    description: FreeText = Field(
        default="", description="One line of text for people (labels, `toolkit plan`); not inherited through "
        "extends. Any printable characters; no control or bidi formatting characters.")
    extends: Annotated[str, _pattern(P.LOCAL_PATH)] | None = None
    os: OS = Field(default_factory=OS)
    gpu: GPU = Field(default_factory=GPU)
    python: Python = Field(default_factory=Python)
    frameworks: Frameworks = Field(default_factory=Frameworks)
    packages: Packages = Field(default_factory=Packages)
    jupyter: Jupyter = Field(default_factory=Jupyter)
    git: Git = Field(default_factory=Git)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    user: User = Field(default_factory=User)
    network: Network = Field(default_factory=Network)
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    checks: list[ExtraCheck] = Field(default_factory=list)
    run: list[Run] = Field(default_factory=list, description="Your own steps, in order, after the packages.")
    users: list[Account] = Field(default_factory=list, description="Login accounts on hosts (a team's people); "
                                 "`user:` stays the one user of an image.")
    directories: list[DataDirectory] = Field(default_factory=list, description="Data, model and cache folders "
                                             "with owner, group and mode, on hosts and in images.")
    mounts: list[Mount] = Field(default_factory=list, description="Hosts only: an existing block device or network "
                                "share mounted at a path, in /etc/fstab.")

    @model_validator(mode="after")
    def _keras_needs_a_backend(self):
        fw = self.frameworks
        if fw.keras and not (fw.tensorflow or fw.pytorch or fw.jax):
            raise ValueError("frameworks.keras needs a backend: add tensorflow, pytorch or jax")
        return self
