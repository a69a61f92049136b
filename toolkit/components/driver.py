"""The NVIDIA driver and Container Toolkit on GPU hosts, plus the GPU-tier driver checks.

Hosts install the driver early (right after proxy/CA/mirror set-up); images never do, their
renderer turns these steps into a comment. The driver branch defaults to the branch of the
driver the resolved CUDA needs (Resolution.min_driver) - on Ubuntu's own packages the first
"-server" branch at or above it; the strategy to Canonical's signed
prebuilt modules on Ubuntu (they load under Secure Boot) and NVIDIA's CUDA repository on Debian.

Package names follow the archives' naming schemes; this machine cannot reach the archives, so they are
checked against public output of apt and ubuntu-drivers from real hosts (docs/gpu.md), not a live mirror:
- Ubuntu: nvidia-headless-no-dkms-<B>[-server][-open] + linux-modules-nvidia-<B>[-server][-open]-<kernel>
  (signed), or nvidia-headless-<B>[-server][-open] (DKMS). Canonical ships "-server" (ERD/LTSB)
  builds for some branches only; other branch names are often transitional packages that move to a
  newer branch - still >= the floor, so the probe accepts that.
- CUDA repository: cuda-drivers-<B> / nvidia-open-<B> before branch 590; from 590 the names carry no
  branch and a pinning package nvidia-driver-pinning-<B> holds the branch (NVIDIA's version-locking
  guide; public provisioning scripts install nvidia-driver-pinning-<B> for 580, 590 and 610).
- Debian's own driver (dkms on Debian 12): nvidia-driver + nvidia-kernel-dkms from non-free, branch 535.
"""

from __future__ import annotations

from toolkit.components.base import Context, Contribution
from toolkit.errors import ProfileError
from toolkit.model import host_probes
from toolkit.model.checks import check
from toolkit.model.steps import ContainerToolkit, NvidiaDriver, PackageRepository

SUPPORTED = {("ubuntu", "22.04"), ("ubuntu", "24.04"), ("debian", "12"),
             ("rocky", "8"), ("rocky", "9"), ("almalinux", "8"), ("almalinux", "9")}
RHEL = ("rocky", "almalinux")
# Canonical's "-server" branches: 595-server appears beside 580-server in `ubuntu-drivers list --gpgpu` on
# 24.04 (2026); there is no 590-server.
UBUNTU_SERVER_BRANCHES = frozenset({"470", "535", "550", "570", "580", "595"})
DEBIAN_OWN_BRANCH = {"12": "535"}                                          # bookworm's nvidia-driver
UNBRANCHED_FROM = 590      # CUDA repository: package names lose the branch from here on
OPEN_DEFAULT_FROM = 560    # NVIDIA's default kernel modules are the open ones from here on
CUDA_REPO = "https://developer.download.nvidia.com/compute/cuda/repos/{path}/x86_64/"
# Signing keys, pinned by primary-key fingerprint: a downloaded key is trusted only when it is exactly
# this key (HTTPS alone would trust whatever the server or a TLS-intercepting proxy hands out).
# The CUDA repositories of Ubuntu 22.04/24.04 and Debian 12 are signed with NVIDIA's "cudatools" key
# 3bf863cc (since the 2022 rotation; Debian 13's repository uses another key, 8793F200). The
# libnvidia-container repository is signed with NVIDIA's open-source projects key (F796ECB0). If NVIDIA
# rotates a key, setup stops and says so; check the new fingerprint with NVIDIA and update it here.
CUDA_REPO_KEY = ("3bf863cc.pub", "EB693B3035CD5710E231E123A4B469963BF863CC")
# NVIDIA's RHEL 8/9 CUDA repositories are signed with key D42D0685; its fingerprint as one public `gpg`
# verification output prints it (not checked against NVIDIA's server from here).
RHEL_REPO_KEY = ("D42D0685.pub", "610C7B14E068A878070DA4E99CD0A493D42D0685")
CONTAINER_KEY = "https://nvidia.github.io/libnvidia-container/gpgkey"
CONTAINER_KEY_FINGERPRINT = "C95B321B61E88C1809C4F759DDCAE044F796ECB0"
CONTAINER_REPO = "https://nvidia.github.io/libnvidia-container/stable/{format}/"   # deb or rpm, then the arch
CUDA_KEYRING = "cuda-keyring"     # NVIDIA's own package that sets the CUDA repository up


def cuda_repository(ctx: Context) -> PackageRepository:
    """NVIDIA's CUDA repository for the target, signed by its pinned key."""
    url = CUDA_REPO.format(path=repo_path(ctx))
    family = ctx.family
    rhel = ctx.target.distro in RHEL
    key_file, fingerprint = RHEL_REPO_KEY if rhel else CUDA_REPO_KEY
    return PackageRepository("driver", "NVIDIA CUDA repository", name="toolkit-cuda", url=url,
                             key_url=url + key_file, key_fingerprint=fingerprint,
                             signed_by=family.keyring("toolkit-cuda-archive"),
                             keyring_packages=() if rhel else (CUDA_KEYRING,), family=family.name)


def container_repository(ctx: Context) -> PackageRepository:
    """NVIDIA's libnvidia-container repository (per architecture), signed by its pinned key."""
    family = ctx.family
    return PackageRepository("driver", "NVIDIA container toolkit repository", name="nvidia-container-toolkit",
                             url=CONTAINER_REPO.format(format=family.repo_format), arch_in_url=True,
                             key_url=CONTAINER_KEY,
                             key_fingerprint=CONTAINER_KEY_FINGERPRINT,
                             signed_by=family.keyring("nvidia-container-toolkit"), family=family.name)


def _problem(ctx: Context, field: str, message: str, hint: str = "") -> ProfileError:
    return ProfileError([ctx.loaded.problem(field, message, hint)])


def branch_of(ctx: Context, floor: str, strategy: str) -> str:
    """auto: the floor's branch; on Ubuntu's own packages the first "-server" branch at or above it
    (feature branches there are short-lived and become transitional packages)."""
    wanted = ctx.profile.gpu.driver.branch
    floor_branch = floor.split(".", 1)[0]
    if strategy == "dkms" and ctx.target.distro == "debian":
        own = DEBIAN_OWN_BRANCH[ctx.target.os_version]
        if wanted not in ("auto", own):
            raise _problem(ctx, "gpu.driver.branch", f"Debian {ctx.target.os_version}'s own driver is branch {own}",
                           "use branch auto (or strategy cuda-repo for another branch)")
        if int(own) < int(floor_branch):
            raise _problem(ctx, "gpu.driver.strategy", f"Debian {ctx.target.os_version}'s own nvidia-driver is branch "
                           f"{own}, older than the {floor} the chosen CUDA needs", "use strategy cuda-repo (or auto)")
        return own
    if wanted == "auto":
        if strategy != "cuda-repo" and ctx.target.distro == "ubuntu":
            return min((b for b in UBUNTU_SERVER_BRANCHES if int(b) >= int(floor_branch)), key=int,
                       default=floor_branch)
        return floor_branch
    if int(wanted) < int(floor_branch):
        raise _problem(ctx, "gpu.driver.branch", f"driver branch {wanted} is older than the {floor} the chosen "
                       f"CUDA needs", f"use branch {floor_branch} or newer, or auto")
    return wanted


def strategy_of(ctx: Context) -> str:
    wanted, distro = ctx.profile.gpu.driver.strategy, ctx.target.distro
    if distro in RHEL:
        if wanted not in ("auto", "cuda-repo"):
            raise _problem(ctx, "gpu.driver.strategy", f"on {distro} toolkit installs NVIDIA's driver from its "
                           "CUDA repository (the nvidia-driver module streams)", "use strategy auto or cuda-repo")
        return "cuda-repo"
    if wanted == "auto":
        return "ubuntu-signed" if distro == "ubuntu" else "cuda-repo"
    if wanted == "ubuntu-signed" and distro != "ubuntu":
        raise _problem(ctx, "gpu.driver.strategy", "ubuntu-signed modules exist on Ubuntu only",
                       "use cuda-repo (or dkms) on Debian")
    return wanted


def open_modules(ctx: Context, branch: str) -> bool:
    value = ctx.profile.gpu.driver.open_kernel_modules
    return int(branch) >= OPEN_DEFAULT_FROM if value == "auto" else value


def packages_for(ctx: Context, strategy: str, branch: str, is_open: bool) -> tuple[tuple[str, ...], str]:
    """(packages, kernel_prefix) for one strategy."""
    t = ctx.target
    if t.distro in RHEL:
        # The module stream brings the kmod (DKMS: kernel-devel of the running kernel, EPEL's dkms).
        return ("nvidia-driver", "nvidia-driver-cuda"), "kernel-devel-"
    if strategy == "cuda-repo":
        if int(branch) >= UNBRANCHED_FROM:
            return (f"nvidia-driver-pinning-{branch}", "nvidia-open" if is_open else "cuda-drivers"), "linux-headers-"
        return (f"nvidia-open-{branch}" if is_open else f"cuda-drivers-{branch}",), "linux-headers-"
    if t.distro == "debian":   # dkms with Debian's own packages
        if is_open:
            raise _problem(ctx, "gpu.driver.open_kernel_modules", f"Debian {t.os_version}'s own driver has no "
                           "open kernel modules packaged here", "set open_kernel_modules: false or use cuda-repo")
        return ("nvidia-driver", "nvidia-kernel-dkms", "firmware-misc-nonfree"), "linux-headers-"
    base = branch + ("-server" if branch in UBUNTU_SERVER_BRANCHES else "")
    name = base + ("-open" if is_open else "")   # nvidia-utils (nvidia-smi) has no -open variant
    if strategy == "ubuntu-signed":
        return (f"nvidia-headless-no-dkms-{name}", f"nvidia-utils-{base}"), f"linux-modules-nvidia-{name}-"
    return (f"nvidia-headless-{name}", f"nvidia-utils-{base}"), "linux-headers-"


def repo_path(ctx: Context) -> str:
    distro = "rhel" if ctx.target.distro in RHEL else ctx.target.distro
    return f"{distro}{ctx.target.os_version.replace('.', '')}"


def module_stream(ctx: Context, branch: str, is_open: bool) -> str:
    """RHEL family: NVIDIA's nvidia-driver module stream, DKMS-built (open or proprietary modules)."""
    if ctx.target.distro not in RHEL:
        return ""
    return f"{branch}-open" if is_open else f"{branch}-dkms"


def contribute(ctx: Context) -> Contribution:
    out = Contribution()
    gpu, res, t = ctx.profile.gpu, ctx.resolution, ctx.target
    if not gpu.enabled:
        return out
    floor = res.min_driver
    mode = gpu.driver.install
    if mode != "never" and floor:
        if (t.distro, t.os_version) in SUPPORTED:
            strategy = strategy_of(ctx)
            branch = branch_of(ctx, floor, strategy)
            is_open = open_modules(ctx, branch)
            packages, prefix = packages_for(ctx, strategy, branch, is_open)
            flavour = "open" if is_open else "proprietary"
            out.steps.append(NvidiaDriver(
                "driver", f"NVIDIA driver {branch} ({strategy}, {flavour} modules)", strategy=strategy,
                branch=branch, packages=packages, kernel_prefix=prefix, lock=gpu.driver.lock,
                blacklist_nouveau=True, min_version=floor, install_mode=mode,
                repository=cuda_repository(ctx) if strategy == "cuda-repo" else None,
                module_stream=module_stream(ctx, branch, is_open)))
            if t.distro in RHEL and int(branch) >= UNBRANCHED_FROM:
                out.warnings.append(f"hosts: NVIDIA's RHEL repository may have no nvidia-driver:{branch} module "
                                    "stream (streams are documented up to the 580 branch); check with dnf module "
                                    "list nvidia-driver, or set gpu.driver.branch")
        elif mode == "always":
            raise _problem(ctx, "gpu.driver.install", f"toolkit installs NVIDIA drivers on Ubuntu 22.04/24.04, "
                           f"Debian 12 and Rocky/AlmaLinux 8/9, not {t.distro} {t.os_version}",
                           "set gpu.driver.install: never and install the driver yourself")
        else:
            out.warnings.append(f"hosts: toolkit installs NVIDIA drivers on Ubuntu 22.04/24.04, Debian 12 and "
                                f"Rocky/AlmaLinux 8/9 only; "
                                f"on {t.distro} {t.os_version} install a driver >= {floor} yourself")
    if gpu.container_toolkit:
        out.steps.append(ContainerToolkit("driver", "NVIDIA Container Toolkit (Docker runtime)",
                                          repository=container_repository(ctx),
                                          install_mode="always" if mode == "always" else "auto"))
    out.checks.append(check("gpu_driver", "gpu", "NVIDIA driver loaded", tier="gpu"))
    out.checks.append(check("gpu_inventory", "gpu", "nvidia-smi lists the GPUs", tier="gpu"))
    if floor:
        argv = ("sh", "-c", host_probes.DRIVER_VERSION + 'driver_at_least "$1"', "check", floor)
        out.checks.append(check("command", "gpu", f"NVIDIA driver >= {floor} (what CUDA {res.cuda} needs)",
                                ident="command:driver-floor", tier="gpu", argv=argv, expect=None))
    return out
