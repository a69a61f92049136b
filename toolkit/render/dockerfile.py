"""Plan -> Dockerfile plus its build context (files/..., wheelhouse). One function per step type; Python's steps
are in dockerfile_python, quoting and the build state in dockerfile_words (its docstring has the quoting rules)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import replace

from toolkit.model import host_probes, osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import (
    CA_ENV,
    HOST_ONLY_STEPS,
    PROXY_VARIABLES,
    ContainerToolkit,
    CopyTree,
    CreateUser,
    Directory,
    Environment,
    GitConfig,
    Metadata,
    NvidiaDriver,
    OsPackages,
    PackageRepository,
    PipInstall,
    RunCommand,
    RunStep,
    Service,
    Step,
    TrustCA,
    Venv,
    WriteFile,
)
from toolkit.profile import patterns
from toolkit.render import dockerfile_python
from toolkit.render.common import (
    Rendered,
    dispatcher,
    header,
    json_str,
    template,
)
from toolkit.render.dockerfile_words import (
    CONT,
    ITEM,
    Build,
    checked,
    comment,
    context_name,
    exec_form,
    q,
    words,
)

RUN_MOUNT = re.compile(r"^--mount=type=(bind|tmpfs),[a-z]+=[A-Za-z0-9_./-]+(,[a-z]+=[A-Za-z0-9_./-]+)*$")
HEALTH_OPTIONS = "--interval=30s --timeout=5s --start-period=60s --retries=3"
# Why a hadolint rule is ignored: its "pin versions" rule of the family's package manager (image_unpinned_rule).
UNPINNED_REASON = "versions come from the base image's release; pin one with name=version in the profile"
CACHED_REASON = "the package cache is a BuildKit cache mount, never part of a layer"


# ---------------------------------------------------------------- one function per step type

def _install(family: osfamily.OsFamily, packages: tuple[str, ...], b: Build) -> list[str]:
    install = family.image_install + ITEM + ITEM.join(q(p) for p in packages)
    unpinned = any(family.package_name(p) == p for p in packages)
    ignore = ((family.image_unpinned_rule, UNPINNED_REASON),) if unpinned else ()
    if b.buildkit:
        # Packages stay in BuildKit's cache mounts, never in a layer. The lists too: the first install of a
        # build refreshes them, later ones reuse them (refreshing only if that cache holds none under 30
        # minutes old: a layer rebuilt alone), unless a step changed the package sources since.
        update = family.image_update_if_stale if b.lists_fresh and family.image_update_if_stale else family.image_update
        # build --bundle: apt's lists of the bundle are in a tmpfs of each RUN (run_mounts), empty every time,
        # while the freshness test reads the shared lists cache (another build may have just filled it)
        b.lists_fresh = not b.run_mounts
        mounts = family.image_cache_mounts
        if b.shared_caches:
            mounts = tuple(m.replace(",sharing=locked", "") for m in mounts)
        cached = tuple((code, CACHED_REASON) for code in family.image_cache_rules)
        return b.run([*family.image_cache_prepare, update, install], mounts=mounts, ignore=ignore + cached)
    return b.run([family.image_update, install, *family.image_cleanup], ignore=ignore)


def _os_packages(step: OsPackages, b: Build) -> list[str]:
    return _install(osfamily.get(step.family), step.packages, b)


def _package_repository(step: PackageRepository, b: Build) -> list[str]:
    """The tools to check a key, then the key (refused unless it is the pinned one) and the source entry."""
    family = osfamily.get(step.family)
    script = host_probes.KEY_CHECK + (
        'curl -fsSL --proto \'=https\' --tlsv1.2 -o "$3" "$1" && key_is "$3" "$2" && chmod 0644 "$3" '
        '&& printf \'%s\' "$5" >"$4"')
    argv = ["sh", "-c", script, "repo", step.key_url, step.key_fingerprint, step.signed_by, step.source_path,
            step.source_line()]
    return _install(family, family.repo_tools, b) + [f"RUN {exec_form(argv)}"]


def _write_file(step: WriteFile, b: Build) -> list[str]:
    if step.hosts_only:
        return [f"# host-only, not in the image (mount it at run time): {checked(patterns.ABS_PATH, step.path, 'path')}"]
    return b.copy(step.path, step.content, step.mode, step.owner)


def _trust_ca(step: TrustCA, b: Build) -> list[str]:
    lines = [line for f in step.files for line in _write_file(f, b)]
    return lines + b.run([words(*osfamily.for_distro(b.plan.target.distro).ca_update)])


def _environment(step: Environment, b: Build) -> list[str]:
    pairs = [(checked(patterns.ENV_NAME, k, "variable name"), json_str(str(v))) for k, v in step.variables]
    if not pairs:
        return []
    if step.build_only:
        # Docker's predefined proxy args are not declared: a declared ARG's value (and any --build-arg
        # that replaces it, credentials included) is recorded in `docker history`; undeclared, the
        # engine passes them to every RUN and records nothing. `toolkit build` passes them.
        proxy = [(k, str(v)) for k, v in step.variables if k in PROXY_VARIABLES]
        lines = [comment("build-time proxy: docker's predefined build args, kept out of `docker history`;"),
                 comment("`toolkit build` passes them; by hand: " + " ".join(
                     f"--build-arg {k}={v}" for k, v in proxy if k.islower()))] if proxy else []
        return lines + [f"ARG {k}={v}" for k, v in pairs if k not in PROXY_VARIABLES]
    return ["ENV " + CONT.join(f"{k}={v}" for k, v in pairs)]


def _create_user(step: CreateUser, b: Build) -> list[str]:
    cmds = []
    if b.plan.target.distro == "ubuntu":
        # Ubuntu 24.04 images ship user `ubuntu` with uid 1000: remove it only when it holds our uid.
        cmds.append(f'if [ "$(id -u ubuntu 2>/dev/null)" = {q(step.uid)} ]; then userdel -r ubuntu; fi')
    cmds.append(f"groupadd --gid {words(step.gid, step.name)}")
    cmds.append("useradd --no-log-init --create-home " + words(
        "--uid", step.uid, "--gid", step.gid, "--home-dir", step.home, "--shell", step.shell, step.name))
    # The home and its cache folder belong to the user even when the base image already had the
    # folder (useradd then leaves it as it was): model downloads (~/.cache/huggingface, torch) need both.
    cache = posixpath.join(str(step.home), ".cache")
    cmds.append(f"mkdir -p -- {q(cache)}")
    cmds.append(f"chown -- {q(f'{int(step.uid)}:{int(step.gid)}')} {words(step.home, cache)}")
    return b.run(cmds)


def _git_config(step: GitConfig, b: Build) -> list[str]:
    cmds = [f"git config --system {words(k, v)}" for k, v in step.settings]
    if step.lfs:
        cmds.append("git lfs install --system")
    return b.run(cmds) if cmds else []


def _service(step: Service, b: Build) -> list[str]:
    if not step.in_image:
        return [comment("a service on hosts only (systemd); the image's CMD stays the base image's")]
    here = f"[{step.component}] {step.title}"
    if b.cmd_owner is not None:
        # A second CMD would silently replace the first (and the HEALTHCHECK would probe the wrong one);
        # plan validation refuses such plans, so this is a bug.
        raise ValueError(f"two services want the image's CMD: {b.cmd_owner} and {here}")
    b.cmd_owner = here
    lines = []
    if step.port is not None:
        port = int(step.port)
        if not 0 < port < 65536:
            raise ValueError(f"port {port} out of range")
        lines.append(f"EXPOSE {port}")
    if step.healthcheck:
        lines.append(f"HEALTHCHECK {HEALTH_OPTIONS}{CONT}CMD {exec_form(step.healthcheck)}")
    # No token on the command line: the server reads JUPYTER_TOKEN at run time or makes one up.
    lines.append(f"CMD {exec_form(step.command)}")
    return lines


def label_word(value: str) -> str:
    r"""A double-quoted LABEL word. Dockerfile quotes know only \" \\ and \$ (a JSON \u00e9 stays
    literal, a bare $ expands), so those three are escaped and printable characters, non-ASCII
    letters included, are written as they are. Anything unprintable (validation refuses it in
    profile text) is written as inert text \uXXXX, never raw."""
    def one(ch: str) -> str:
        if ch in '"\\$':
            return "\\" + ch
        return ch if ch.isprintable() else f"\\u{ord(ch):04x}"
    return '"' + "".join(one(ch) for ch in value) + '"'


def _metadata(step: Metadata, b: Build) -> list[str]:
    labels = list(step.labels)
    if b.created:
        labels.append(("org.opencontainers.image.created", b.created))
    lines = ["LABEL " + CONT.join(f"{label_word(str(k))}={label_word(str(v))}" for k, v in labels)] if labels else []
    return lines + b.copy(step.path, step.profile_json, "0644", "root")


def _run_command(step: RunCommand, b: Build) -> list[str]:
    tool = dockerfile_python.tool_of(step.argv[0], b) if step.argv else None
    if tool:        # a build tool's command (uv venv): its cache mount, made if empty, then the argv quoted
        mounts, ensure = dockerfile_python.with_tool(tool, b)
        return b.run([*ensure, words(*step.argv)], mounts=(*mounts, dockerfile_python.UV_CACHE_MOUNT))
    # Exec form: no shell, no Docker variable expansion; the argv reaches the program as is.
    return b.switch_to("root") + [f"RUN {exec_form(step.argv)}"]


# A run: step in a RUN: exec form (no shell parses the profile's text), every value a positional parameter of a
# fixed script. $1 creates / the unless argv's length / the digest and state file; then the launch argv.
RUN_CREATES = 'if [ -e "$1" ]; then echo "skipped: $1 exists"; exit 0; fi; shift; exec "$@"'
RUN_UNLESS = ('n="$1"; shift; if "${@:1:$n}"; then echo "skipped: its unless command exits 0"; exit 0; fi; '
              'shift "$n"; exec "$@"')
RUN_ONCE = 'd="$1"; f="$2"; shift 2; "$@"; mkdir -p -- "${f%/*}"; printf "%s\\n" "$d" >"$f"'


def _run_step(step: RunStep, b: Build) -> list[str]:
    if step.hosts_only:
        return [comment(f"runs on hosts only: {step.user} is an account images do not have")]
    if step.creates:
        argv = ["sh", "-c", RUN_CREATES, "run", step.creates, *step.launch()]
    elif step.unless:
        unless = step.as_user(step.unless)
        argv = ["bash", "-c", RUN_UNLESS, "run", str(len(unless)), *unless, *step.launch()]
    else:
        argv = ["sh", "-ec", RUN_ONCE, "run", step.digest, step.state_path, *step.launch()]
    return b.switch_to("root") + [f"RUN {exec_form(argv)}"]


def _copy_tree(step: CopyTree, b: Build) -> list[str]:
    dest = checked(patterns.ABS_PATH, step.dest, "folder")
    name = context_name(b.trees, "", dest, step.source, "tree")
    b.mounts[dest] = name
    if b.buildkit:
        return [comment(f"{name}/ is bind-mounted at {dest} by the pip steps that use it: in no layer")]
    return [comment("The legacy builder has no bind mounts: the wheelhouse is COPYed and stays in this layer"),
            comment("(a later RUN cannot shrink a COPY layer). Build with BuildKit to keep it out of the image."),
            f"COPY {exec_form([name, dest])}"]


def _host_only(step: NvidiaDriver | ContainerToolkit, b: Build) -> list[str]:
    # A container never loads a kernel driver: the host's runs it and --gpus mounts its libraries in.
    return [comment("drivers come from the host; not installed in images")]


def _directory(step: Directory, b: Build) -> list[str]:
    """mkdir -p, then owner, group and mode of the folder itself. An account of `users` (not in images) is
    written as its uid and gid; a group by name is made when the image lacks it."""
    owner = str(step.uid) if step.uid is not None else step.owner
    group = str(step.gid) if step.gid is not None else step.group
    cmds = [] if step.gid is not None or step.group == "root" else [f"groupadd -f -- {q(step.group)}"]
    cmds += [f"mkdir -p -- {q(step.path)}", f"chown -- {q(f'{owner}:{group}')} {q(step.path)}",
             f"chmod -- {words(step.mode, step.path)}"]
    return b.run(cmds)


def _host_account(step: Step, b: Build) -> list[str]:
    return [comment("host only: accounts and mounts are not made in images (`toolkit plan` notes it)")]


_step: Callable[[Step, Build], list[str]] = dispatcher({
    OsPackages: _os_packages, WriteFile: _write_file, TrustCA: _trust_ca, Environment: _environment,
    CreateUser: _create_user, Venv: dockerfile_python.venv, PipInstall: dockerfile_python.pip, GitConfig: _git_config, Service: _service,
    Metadata: _metadata, RunCommand: _run_command, CopyTree: _copy_tree,
    PackageRepository: _package_repository, NvidiaDriver: _host_only, ContainerToolkit: _host_only,
    RunStep: _run_step,
    Directory: _directory, **{t: _host_account for t in HOST_ONLY_STEPS},
}, "dockerfile")


# ---------------------------------------------------------------- the whole file

def _final(b: Build) -> list[str]:
    t = b.plan.target
    lines = []
    if t.venv:
        lines.append("ENV " + CONT.join([f"VIRTUAL_ENV={json_str(t.venv)}", f"PATH={json_str(t.venv + '/bin:$PATH')}"]))
    if t.user:
        lines += [comment(f"run as {t.user}"), f"USER {b.user_ref(t.user)}"]
        b.user = t.user
        if t.home:
            lines.append(f"WORKDIR {checked(patterns.ABS_PATH, t.home, 'home folder')}")
    elif b.user != "root":
        lines += b.switch_to("root")
    return lines


def _image_env(plan: Plan) -> str:
    """ENV right after FROM: the NVIDIA container runtime's variables on a plain OS base (the plan says which)."""
    pairs = [(checked(patterns.ENV_NAME, k, "variable name"), json_str(str(v))) for k, v in plan.target.image_env]
    if not pairs:
        return ""
    why = "\n".join([comment("GPU stack on the plain OS image: pip brings the CUDA libraries (toolkit plan --explain);"),
                     comment("these tell the NVIDIA container runtime what to mount and which drivers to refuse")])
    return why + "\nENV " + CONT.join(f"{k}={v}" for k, v in pairs)


def _changes_sources(step: Step, family: osfamily.OsFamily) -> bool:
    """Whether the step may change the package sources (a repository; a file written, or a command naming a
    path, in the package manager's configuration): the next install must refresh the lists."""
    paths = [step.path] if isinstance(step, WriteFile) else list(step.argv) if isinstance(step, RunCommand) else []
    return isinstance(step, PackageRepository) or any(
        p == family.config_dir or p.startswith(family.config_dir.rstrip("/") + "/") for p in map(str, paths))


def _coalesced(steps: tuple[Step, ...]) -> list[tuple[list[Step], Step]]:
    """The plan's steps as Dockerfile blocks: (the steps, the step rendered). OS package steps of one family make
    one install (one package manager run and one layer: 1-2 s less per step on a cold build, still a layer of its
    own for the cache) when they are adjacent, or apart only by the CA trust (_ca_trust); every other step is
    rendered alone."""
    out: list[tuple[list[Step], Step]] = []
    for step in steps:
        k = len(out) - 1
        while k >= 0 and _ca_trust(out[k][1]):
            k -= 1
        last = out[k][1] if k >= 0 else None
        if isinstance(step, OsPackages) and isinstance(last, OsPackages) and last.family == step.family:
            more = tuple(p for p in step.packages if p not in last.packages)
            out[k] = (out[k][0] + [step], replace(last, packages=last.packages + more))
        else:
            out.append(([step], step))
    return out


def _ca_trust(step: Step) -> bool:
    """network.ca_certificates' trust (the certificates, the bundle's variables): a later OS package step may
    install before it, with the CA tooling. The package manager never needs that CA in an image: the tooling's
    own install, which comes first, refreshed the lists from the same sources without it."""
    return isinstance(step, TrustCA) or (isinstance(step, Environment) and not step.build_only and bool(step.variables)
                                         and all(k in CA_ENV for k, _ in step.variables))


def render(plan: Plan, buildkit: bool = True, created: str | None = None, shared_caches: bool = False,
           run_mounts: tuple[str, ...] = ()) -> Rendered:
    """The Dockerfile for plan; buildkit=False builds with the legacy builder (no RUN --mount, no --chmod).

    shared_caches (podman builds): the OS package caches and build tools without sharing=locked. Buildah 1.28
    (Debian 12's podman 4.3) never releases such a lock within a build, so the second RUN that takes it hangs;
    its steps run one at a time, and the package manager's own lock files (inside those caches) guard other
    builds. run_mounts: BuildKit mount options every RUN gets (build --bundle: the bundle's folders), checked
    here."""
    for mount in run_mounts:
        checked(RUN_MOUNT, mount, "RUN mount")
    b = Build(plan=plan, buildkit=buildkit, created=created, shared_caches=shared_caches, run_mounts=run_mounts)
    blocks = []
    for steps, step in _coalesced(plan.steps):
        lines = _step(step, b)
        if any(_changes_sources(s, osfamily.for_distro(plan.target.distro)) for s in steps):
            b.lists_fresh = False
        if lines:
            blocks.append("\n".join([comment(f"[{s.component}] {s.title}") for s in steps] + lines))
    final = _final(b)
    if final:
        blocks.append("\n".join(final))
    text = template("Dockerfile.j2").render(
        header=comment(header(plan, comment="").strip()),
        base_image=checked(patterns.IMAGE_REF, plan.target.base_image, "base image"),
        image_env=_image_env(plan),
        blocks=blocks,
    )
    return Rendered(files={"Dockerfile": text, **b.files}, trees=dict(b.trees))

