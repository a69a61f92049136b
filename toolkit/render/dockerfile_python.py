"""Dockerfile steps of Python: the venv, pip (or uv) installs with their BuildKit caches and index credentials,
and the build-tool venv (uv's bootstrap) kept in a cache mount, never in a layer."""

from __future__ import annotations

from toolkit.model import osfamily
from toolkit.model.steps import PipInstall, Venv
from toolkit.profile import patterns
from toolkit.render.common import pip_command, pip_options, pip_targets
from toolkit.render.dockerfile_words import ITEM, Build, checked, comment, q, words

NETRC_SECRET = "toolkit-netrc"      # BuildKit secret id of the pip index credentials (toolkit build --netrc)
NETRC_PATH = f"/run/secrets/{NETRC_SECRET}"
UV_CACHE_MOUNT = "--mount=type=cache,target=/root/.cache/uv"   # uv's own cache (root's), out of every layer
USER_PIP_CACHE = "/var/cache/toolkit-pip"   # BuildKit cache mount of pip steps run as the plan's user


def tool_of(path: str, b: Build) -> str | None:
    """The build-tool venv (kept in a cache mount) that path lies in, if any."""
    return next((tool for tool in b.tools if path == tool or path.startswith(tool + "/")), None)


def with_tool(tool: str | None, b: Build) -> tuple[tuple[str, ...], list[str]]:
    """The cache mount of a build-tool venv and the commands that make it when that cache is empty (first
    build, or pruned while the layers that used it stayed cached): what a RUN using the tool starts with."""
    if tool is None:
        return (), []
    t = b.plan.target
    mount = (f"--mount=type=cache,id={q(f'toolkit-tools-{t.distro}-{t.os_version}')},"
             f"target={checked(patterns.ABS_PATH, tool, 'folder')}" + ("" if b.shared_caches else ",sharing=locked"))
    ready = q(f"{tool}/.toolkit-ready")
    return (mount,), [f"{{ test -e {ready} || {{ {' && '.join(b.tools[tool])} && touch {ready}; }}; }}"]


def venv(step: Venv, b: Build) -> list[str]:
    if step.build_tool and b.buildkit:
        # No pip of its own (ensurepip takes ~2.5 s): the tool's install runs the OS's pip wheel (_pip)
        b.tools[step.path] = [words(step.python, "-m", "venv", "--without-pip", "--", step.path)]
        return [comment(f"{step.path}: build tools, in a BuildKit cache mount (made by the steps that use "
                        "them), never in a layer")]
    b.owners[step.path] = step.owner
    cmds = [words(step.python, "-m", "venv", "--", step.path)]
    if step.owner != "root":
        # Owned by its user from the start: pip steps then run as that user, no chown layer later.
        cmds.append(f"chown -R {words(step.owner + ':', step.path)}")
    return b.run(cmds)


def _pip_cache(b: Build, owner: str, uv: bool = False) -> tuple[str, list[str]] | None:
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


def _netrc_secret(step: PipInstall, b: Build, owner: str) -> str | None:
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


def pip(step: PipInstall, b: Build) -> list[str]:
    if step.venv in b.tools:        # a build tool: installed where it is used (see _with_tool)
        b.tools[step.venv].append(_tool_pip(step, b))
        return [comment(f"{', '.join(step.requirements)}: into the build tools' cache mount where first used")]
    owner = b.owners.get(step.venv, "root")
    tool_mounts, ensure = with_tool(tool_of(step.uv, b) if step.uv else None, b)
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


def _tool_pip(step: PipInstall, b: Build) -> str:
    """pip install into a build-tool venv made --without-pip: pip run from the OS's own pip wheel (no pip left in
    the venv, nothing to byte-compile), or, where the OS has none, ensurepip first."""
    python = q(f"{step.venv}/bin/python")
    args = words("install", "--no-cache-dir", *pip_options(step), *pip_targets(step))
    wheels = checked(patterns.ABS_PATH, osfamily.for_distro(b.plan.target.distro).pip_wheel_dir, "folder")
    return (f'w= && for f in {q(wheels)}/pip-*.whl; do if [ -e "$f" ]; then w=$f; fi; done && '
            f'if [ -n "$w" ]; then {python} "$w/pip" {args}; '
            f"else {python} -m ensurepip && {python} -m pip {args}; fi")


def _pip_items(step: PipInstall) -> list[str]:
    """One requirement per line; a locked step's options and file on one line each."""
    if step.requirement_file:
        return ["--require-hashes --no-deps", f"-r {q(step.requirement_file)}"]
    if step.requirement_files:          # packages.pip_requirements, not locked
        return [f"-r {q(f)}" for f in step.requirement_files]
    return [q(r) for r in step.requirements]
