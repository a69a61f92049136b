"""Plan -> Dockerfile plus its build context (files/..., wheelhouse). One function per step type.

Quoting rules (no plan value is ever glued raw):
- RUN lines: every value goes through `q()`: shlex quoting, or bash ANSI-C quoting ($'...') when the
  value holds a backslash, a control character or non-ASCII text, so no raw newline or trailing
  backslash can end or continue a Dockerfile line. The SHELL is bash (Debian/Ubuntu targets).
- ENV, ARG and LABEL values (and LABEL keys) are JSON string literals; CMD, HEALTHCHECK, COPY and
  RunCommand use the JSON exec form.
- What Dockerfile syntax cannot quote (FROM image, USER, WORKDIR, ENV/ARG names, --chown, --chmod,
  --mount targets) is checked against the profile's strict patterns; a mismatch raises ValueError
  (a bug: validation should have refused the profile).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from toolkit.model import host_probes, osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import (
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
from toolkit.render.common import (
    Rendered,
    dispatcher,
    header,
    json_str,
    pip_command,
    pip_options,
    pip_targets,
    template,
)

CONT = " \\\n    "          # continuation between the parts of one instruction
ITEM = " \\\n        "      # continuation before each package / requirement
MODE = re.compile(r"^[0-7]{3,4}$")
OWNER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}(?::[a-z_][a-z0-9_-]{0,31})?$")
_PLAIN = re.compile(r"^[\x20-\x5b\x5d-\x7e]*$")   # printable ASCII without backslash
NETRC_SECRET = "toolkit-netrc"      # BuildKit secret id of the pip index credentials (toolkit build --netrc)
NETRC_PATH = f"/run/secrets/{NETRC_SECRET}"
UV_CACHE_MOUNT = "--mount=type=cache,target=/root/.cache/uv"   # uv's own cache (root's), out of every layer
RUN_MOUNT = re.compile(r"^--mount=type=(bind|tmpfs),[a-z]+=[A-Za-z0-9_./-]+(,[a-z]+=[A-Za-z0-9_./-]+)*$")
USER_PIP_CACHE = "/var/cache/toolkit-pip"   # BuildKit cache mount of pip steps run as the plan's user
HEALTH_OPTIONS = "--interval=30s --timeout=5s --start-period=60s --retries=3"
# Why a hadolint rule is ignored: its "pin versions" rule of the family's package manager (image_unpinned_rule).
UNPINNED_REASON = "versions come from the base image's release; pin one with name=version in the profile"
CACHED_REASON = "the package cache is a BuildKit cache mount, never part of a layer"


# ---------------------------------------------------------------- quoting and validation

def q(value: object) -> str:
    """One shell word for a RUN line (bash), whatever the value holds."""
    text = str(value)
    if _PLAIN.match(text):
        return shlex.quote(text)
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\x27")
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


def words(*values: object) -> str:
    return " ".join(q(v) for v in values)


def exec_form(argv) -> str:
    return "[" + ", ".join(json_str(str(a)) for a in argv) + "]"


def comment(text: str) -> str:
    """A one-line Dockerfile comment: control characters (newlines) become spaces, no trailing backslash."""
    return ("# " + "".join(c if c.isprintable() else " " for c in str(text))).rstrip(" \\")


def _checked(pattern: re.Pattern[str], value: object, what: str) -> str:
    text = str(value)
    if not pattern.fullmatch(text):
        raise ValueError(f"cannot write {what} {text!r} into a Dockerfile unquoted: "
                         f"expected {patterns.DESCRIBE.get(pattern, pattern.pattern)}")
    return text


def _context_name(taken: dict[str, str], prefix: str, path: str, content: str, fallback: str) -> str:
    """A safe, unique, deterministic build-context name (prefix + basename) for a file or folder."""
    base = prefix + (re.sub(r"[^A-Za-z0-9._-]", "_", posixpath.basename(str(path).rstrip("/"))).lstrip(".")
                     or fallback)
    name, n = base, 1
    while name in taken and taken[name] != content:
        n += 1
        name = f"{base}-{n}"
    taken[name] = content
    return name


# ---------------------------------------------------------------- build state (per render call)

@dataclass
class _Build:
    plan: Plan
    buildkit: bool
    created: str | None
    shared_caches: bool = False                            # podman: no sharing=locked (see render)
    files: dict[str, str] = field(default_factory=dict)    # context file name (under files/) -> text
    trees: dict[str, str] = field(default_factory=dict)    # context folder -> local source folder
    mounts: dict[str, str] = field(default_factory=dict)   # CopyTree dest -> context folder
    owners: dict[str, str] = field(default_factory=dict)   # venv path -> owner
    cmd_owner: str | None = None                           # the service step that wrote the CMD
    lists_fresh: bool = False                              # package lists refreshed in this build, unchanged since
    tools: dict[str, list[str]] = field(default_factory=dict)  # build-tool venv (BuildKit) -> commands making it
    user: str = "root"                                     # who the next RUN runs as
    run_mounts: tuple[str, ...] = ()                       # BuildKit mounts of every RUN (build --bundle)

    def user_ref(self, name: str) -> str:
        """USER argument: uid:gid for the plan's user (Kubernetes runAsNonRoot needs numbers)."""
        t = self.plan.target
        if name == "root":
            return "0:0"
        if name == t.user and t.uid is not None and t.gid is not None:
            return f"{int(t.uid)}:{int(t.gid)}"
        return _checked(patterns.UNIX_NAME, name, "user name")

    def switch_to(self, name: str) -> list[str]:
        if name == self.user:
            return []
        self.user = name
        return [f"USER {self.user_ref(name)}"]

    def run(self, commands: list[str], mounts: tuple[str, ...] = (), as_user: str = "root",
            ignore: tuple[tuple[str, str], ...] = ()) -> list[str]:
        """One RUN instruction (after a USER switch if needed), commands joined with &&; `ignore`: the
        hadolint rules (code, why) it is exempt from."""
        parts = list(mounts) + list(self.run_mounts) + [commands[0]] + [f"&& {c}" for c in commands[1:]]
        lines = self.switch_to(as_user)
        if ignore:
            lines += [comment(f"{code}: {why}") for code, why in ignore]
            lines.append(f"# hadolint ignore={','.join(code for code, _ in ignore)}")
        return lines + ["RUN " + CONT.join(parts)]

    def copy(self, path: str, content: str, mode: str, owner: str) -> list[str]:
        """COPY a context file to path; --chmod needs BuildKit, the legacy builder gets a RUN chmod."""
        name = _context_name(self.files, "files/", path, content, "file")
        mode = _checked(MODE, mode, "file mode")
        flags = ""
        if owner != "root":
            flags += f"--chown={_checked(OWNER, owner, 'file owner')} "
        if self.buildkit:
            return [f"COPY --chmod={mode} {flags}{exec_form([name, path])}"]
        lines = [f"COPY {flags}{exec_form([name, path])}"]
        if mode != "0644":   # context files are written 0644; the legacy builder keeps that mode
            lines += self.run([f"chmod {words(mode, path)}"])
        return lines


# ---------------------------------------------------------------- one function per step type

def _install(family: osfamily.OsFamily, packages: tuple[str, ...], b: _Build) -> list[str]:
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


def _os_packages(step: OsPackages, b: _Build) -> list[str]:
    return _install(osfamily.get(step.family), step.packages, b)


def _package_repository(step: PackageRepository, b: _Build) -> list[str]:
    """The tools to check a key, then the key (refused unless it is the pinned one) and the source entry."""
    family = osfamily.get(step.family)
    script = host_probes.KEY_CHECK + (
        'curl -fsSL --proto \'=https\' --tlsv1.2 -o "$3" "$1" && key_is "$3" "$2" && chmod 0644 "$3" '
        '&& printf \'%s\' "$5" >"$4"')
    argv = ["sh", "-c", script, "repo", step.key_url, step.key_fingerprint, step.signed_by, step.source_path,
            step.source_line()]
    return _install(family, family.repo_tools, b) + [f"RUN {exec_form(argv)}"]


def _write_file(step: WriteFile, b: _Build) -> list[str]:
    if step.hosts_only:
        return [f"# host-only, not in the image (mount it at run time): {_checked(patterns.ABS_PATH, step.path, 'path')}"]
    return b.copy(step.path, step.content, step.mode, step.owner)


def _trust_ca(step: TrustCA, b: _Build) -> list[str]:
    lines = [line for f in step.files for line in _write_file(f, b)]
    return lines + b.run([words(*osfamily.for_distro(b.plan.target.distro).ca_update)])


def _environment(step: Environment, b: _Build) -> list[str]:
    pairs = [(_checked(patterns.ENV_NAME, k, "variable name"), json_str(str(v))) for k, v in step.variables]
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


def _create_user(step: CreateUser, b: _Build) -> list[str]:
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


def _tool_of(path: str, b: _Build) -> str | None:
    """The build-tool venv (kept in a cache mount) that path lies in, if any."""
    return next((tool for tool in b.tools if path == tool or path.startswith(tool + "/")), None)


def _with_tool(tool: str | None, b: _Build) -> tuple[tuple[str, ...], list[str]]:
    """The cache mount of a build-tool venv and the commands that make it when that cache is empty (first
    build, or pruned while the layers that used it stayed cached): what a RUN using the tool starts with."""
    if tool is None:
        return (), []
    t = b.plan.target
    mount = (f"--mount=type=cache,id={q(f'toolkit-tools-{t.distro}-{t.os_version}')},"
             f"target={_checked(patterns.ABS_PATH, tool, 'folder')}" + ("" if b.shared_caches else ",sharing=locked"))
    ready = q(f"{tool}/.toolkit-ready")
    return (mount,), [f"{{ test -e {ready} || {{ {' && '.join(b.tools[tool])} && touch {ready}; }}; }}"]


def _venv(step: Venv, b: _Build) -> list[str]:
    if step.build_tool and b.buildkit:
        b.tools[step.path] = [words(step.python, "-m", "venv", "--", step.path)]
        return [comment(f"{step.path}: build tools, in a BuildKit cache mount (made by the steps that use "
                        "them), never in a layer")]
    b.owners[step.path] = step.owner
    cmds = [words(step.python, "-m", "venv", "--", step.path)]
    if step.owner != "root":
        # Owned by its user from the start: pip steps then run as that user, no chown layer later.
        cmds.append(f"chown -R {words(step.owner + ':', step.path)}")
    return b.run(cmds)


def _pip_cache(b: _Build, owner: str, uv: bool = False) -> tuple[str, list[str]] | None:
    """The BuildKit cache mount for pip (or uv: root's only) run as owner, and the options that use it.

    The user's cache lives outside its home: BuildKit creates a mount target's missing parents
    owned by root, and a root-owned ~/.cache left in the image stops the user's own tools
    (Hugging Face, torch hub) from caching anything. One cache per uid, so that profiles with
    other uids never share a cache folder they cannot write."""
    t = b.plan.target
    if owner == "root":
        return (UV_CACHE_MOUNT if uv else "--mount=type=cache,target=/root/.cache/pip"), []
    if uv:
        return None
    if owner == t.user and t.uid is not None and t.gid is not None:
        uid, gid = int(t.uid), int(t.gid)
        return (f"--mount=type=cache,id=toolkit-pip-{uid},target={USER_PIP_CACHE},uid={uid},gid={gid}",
                ["--cache-dir", USER_PIP_CACHE])
    return None


def _netrc_secret(step: PipInstall, b: _Build, owner: str) -> str | None:
    """The BuildKit secret mount of the index credentials (a netrc, read by pip through NETRC) for a
    step with its own index: in no layer, no history; absent (and unused) when the build gives none."""
    if not (step.index_url or step.extra_index_urls):
        return None
    t = b.plan.target
    who = ""
    if owner == t.user and t.uid is not None and t.gid is not None:
        who = f",uid={int(t.uid)},gid={int(t.gid)}"
    elif owner != "root":
        who = ",mode=0444"      # an owner without known ids: the file exists for this RUN only
    return f"--mount=type=secret,id={NETRC_SECRET},target={NETRC_PATH}{who}"


def _pip(step: PipInstall, b: _Build) -> list[str]:
    if step.venv in b.tools:        # a build tool: installed where it is used (see _with_tool)
        b.tools[step.venv].append(words(f"{step.venv}/bin/python", "-m", "pip", "install", "--no-cache-dir",
                                        *pip_options(step), *pip_targets(step)))
        return [comment(f"{', '.join(step.requirements)}: into the build tools' cache mount where first used")]
    owner = b.owners.get(step.venv, "root")
    tool_mounts, ensure = _with_tool(_tool_of(step.uv, b) if step.uv else None, b)
    mounts = list(tool_mounts)
    args = pip_command(step)
    cache = _pip_cache(b, owner, uv=bool(step.uv))
    if cache and b.buildkit:
        mounts.append(cache[0])
        args += cache[1]
    else:
        args.append("--no-cache" if step.uv else "--no-cache-dir")
    args += pip_options(step)
    if b.buildkit and step.find_links in b.mounts:
        mounts.append(f"--mount=type=bind,source={b.mounts[step.find_links]},target={step.find_links}")
    netrc = _netrc_secret(step, b, owner) if b.buildkit else None
    if netrc:
        mounts.append(netrc)
    command = (f"NETRC={NETRC_PATH} " if netrc else "") + words(*args) + ITEM + ITEM.join(
        _pip_items(step))
    return b.run([*ensure, command], mounts=tuple(mounts), as_user=owner)


def _pip_items(step: PipInstall) -> list[str]:
    """One requirement per line; a locked step's options and file on one line each."""
    if step.requirement_file:
        return ["--require-hashes --no-deps", f"-r {q(step.requirement_file)}"]
    if step.requirement_files:          # packages.pip_requirements, not locked
        return [f"-r {q(f)}" for f in step.requirement_files]
    return [q(r) for r in step.requirements]


def _git_config(step: GitConfig, b: _Build) -> list[str]:
    cmds = [f"git config --system {words(k, v)}" for k, v in step.settings]
    if step.lfs:
        cmds.append("git lfs install --system")
    return b.run(cmds) if cmds else []


def _service(step: Service, b: _Build) -> list[str]:
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


def _metadata(step: Metadata, b: _Build) -> list[str]:
    labels = list(step.labels)
    if b.created:
        labels.append(("org.opencontainers.image.created", b.created))
    lines = ["LABEL " + CONT.join(f"{label_word(str(k))}={label_word(str(v))}" for k, v in labels)] if labels else []
    return lines + b.copy(step.path, step.profile_json, "0644", "root")


def _run_command(step: RunCommand, b: _Build) -> list[str]:
    tool = _tool_of(step.argv[0], b) if step.argv else None
    if tool:        # a build tool's command (uv venv): its cache mount, made if empty, then the argv quoted
        mounts, ensure = _with_tool(tool, b)
        return b.run([*ensure, words(*step.argv)], mounts=(*mounts, UV_CACHE_MOUNT))
    # Exec form: no shell, no Docker variable expansion; the argv reaches the program as is.
    return b.switch_to("root") + [f"RUN {exec_form(step.argv)}"]


# A run: step in a RUN: exec form (no shell parses the profile's text), every value a positional parameter of a
# fixed script. $1 creates / the unless argv's length / the digest and state file; then the launch argv.
RUN_CREATES = 'if [ -e "$1" ]; then echo "skipped: $1 exists"; exit 0; fi; shift; exec "$@"'
RUN_UNLESS = ('n="$1"; shift; if "${@:1:$n}"; then echo "skipped: its unless command exits 0"; exit 0; fi; '
              'shift "$n"; exec "$@"')
RUN_ONCE = 'd="$1"; f="$2"; shift 2; "$@"; mkdir -p -- "${f%/*}"; printf "%s\\n" "$d" >"$f"'


def _run_step(step: RunStep, b: _Build) -> list[str]:
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


def _copy_tree(step: CopyTree, b: _Build) -> list[str]:
    dest = _checked(patterns.ABS_PATH, step.dest, "folder")
    name = _context_name(b.trees, "", dest, step.source, "tree")
    b.mounts[dest] = name
    if b.buildkit:
        return [comment(f"{name}/ is bind-mounted at {dest} by the pip steps that use it: in no layer")]
    return [comment("The legacy builder has no bind mounts: the wheelhouse is COPYed and stays in this layer"),
            comment("(a later RUN cannot shrink a COPY layer). Build with BuildKit to keep it out of the image."),
            f"COPY {exec_form([name, dest])}"]


def _host_only(step: NvidiaDriver | ContainerToolkit, b: _Build) -> list[str]:
    # A container never loads a kernel driver: the host's runs it and --gpus mounts its libraries in.
    return [comment("drivers come from the host; not installed in images")]


def _directory(step: Directory, b: _Build) -> list[str]:
    """mkdir -p, then owner, group and mode of the folder itself. An account of `users` (not in images) is
    written as its uid and gid; a group by name is made when the image lacks it."""
    owner = str(step.uid) if step.uid is not None else step.owner
    group = str(step.gid) if step.gid is not None else step.group
    cmds = [] if step.gid is not None or step.group == "root" else [f"groupadd -f -- {q(step.group)}"]
    cmds += [f"mkdir -p -- {q(step.path)}", f"chown -- {q(f'{owner}:{group}')} {q(step.path)}",
             f"chmod -- {words(step.mode, step.path)}"]
    return b.run(cmds)


def _host_account(step: Step, b: _Build) -> list[str]:
    return [comment("host only: accounts and mounts are not made in images (`toolkit plan` notes it)")]


_step: Callable[[Step, _Build], list[str]] = dispatcher({
    OsPackages: _os_packages, WriteFile: _write_file, TrustCA: _trust_ca, Environment: _environment,
    CreateUser: _create_user, Venv: _venv, PipInstall: _pip, GitConfig: _git_config, Service: _service,
    Metadata: _metadata, RunCommand: _run_command, CopyTree: _copy_tree,
    PackageRepository: _package_repository, NvidiaDriver: _host_only, ContainerToolkit: _host_only,
    RunStep: _run_step,
    Directory: _directory, **{t: _host_account for t in HOST_ONLY_STEPS},
}, "dockerfile")


# ---------------------------------------------------------------- the whole file

def _final(b: _Build) -> list[str]:
    t = b.plan.target
    lines = []
    if t.venv:
        lines.append("ENV " + CONT.join([f"VIRTUAL_ENV={json_str(t.venv)}", f"PATH={json_str(t.venv + '/bin:$PATH')}"]))
    if t.user:
        lines += [comment(f"run as {t.user}"), f"USER {b.user_ref(t.user)}"]
        b.user = t.user
        if t.home:
            lines.append(f"WORKDIR {_checked(patterns.ABS_PATH, t.home, 'home folder')}")
    elif b.user != "root":
        lines += b.switch_to("root")
    return lines


def _image_env(plan: Plan) -> str:
    """ENV right after FROM: the NVIDIA container runtime's variables on a plain OS base (the plan says which)."""
    pairs = [(_checked(patterns.ENV_NAME, k, "variable name"), json_str(str(v))) for k, v in plan.target.image_env]
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


def render(plan: Plan, buildkit: bool = True, created: str | None = None, shared_caches: bool = False,
           run_mounts: tuple[str, ...] = ()) -> Rendered:
    """The Dockerfile for plan; buildkit=False builds with the legacy builder (no RUN --mount, no --chmod).

    shared_caches (podman builds): the OS package caches and build tools without sharing=locked. Buildah 1.28
    (Debian 12's podman 4.3) never releases such a lock within a build, so the second RUN that takes it hangs;
    its steps run one at a time, and the package manager's own lock files (inside those caches) guard other
    builds. run_mounts: BuildKit mount options every RUN gets (build --bundle: the bundle's folders), checked
    here."""
    for mount in run_mounts:
        _checked(RUN_MOUNT, mount, "RUN mount")
    b = _Build(plan=plan, buildkit=buildkit, created=created, shared_caches=shared_caches, run_mounts=run_mounts)
    blocks = []
    for step in plan.steps:
        lines = _step(step, b)
        if _changes_sources(step, osfamily.for_distro(plan.target.distro)):
            b.lists_fresh = False
        if lines:
            blocks.append("\n".join([comment(f"[{step.component}] {step.title}")] + lines))
    final = _final(b)
    if final:
        blocks.append("\n".join(final))
    text = template("Dockerfile.j2").render(
        header=comment(header(plan, comment="").strip()),
        base_image=_checked(patterns.IMAGE_REF, plan.target.base_image, "base image"),
        image_env=_image_env(plan),
        blocks=blocks,
    )
    return Rendered(files={"Dockerfile": text, **b.files}, trees=dict(b.trees))

