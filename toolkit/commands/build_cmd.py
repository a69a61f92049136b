"""`toolkit build`: render a profile's Dockerfile and context, build it on a Docker engine, show progress."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import click

from toolkit import redact
from toolkit.commands import locking, options
from toolkit.errors import UsageError
from toolkit.executors import base_image as bi
from toolkit.executors import credentials
from toolkit.executors import docker_build as db
from toolkit.executors import podman_build as pb
from toolkit.executors.build_progress import Event, brief
from toolkit.executors.image_tag import EXAMPLE, tag_problem
from toolkit.plan.builder import build_plan
from toolkit.profile import patterns
from toolkit.profile.loader import LoadedProfile, load_profile
from toolkit.render.dockerfile_python import NETRC_SECRET
from toolkit.render.run_command import next_steps
from toolkit.ui import console, out, printable, use_colour, warn

ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def with_base_image(loaded: LoadedProfile, image: str) -> LoadedProfile:
    """The profile with os.base_image replaced (the FROM line), digest recomputed."""
    try:
        patterns.check(patterns.IMAGE_REF, image)
    except ValueError as exc:
        raise UsageError(f"--base-image: {exc}") from None
    profile = loaded.profile.model_copy(update={"os": loaded.profile.os.model_copy(update={"base_image": image})})
    digest = hashlib.sha256(json.dumps(profile.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    return dataclasses.replace(loaded, profile=profile, digest=digest)


def parse_build_args(items: tuple[str, ...], environ=None) -> tuple[dict[str, str], set[str]]:
    """(args, names whose value came from the environment): NAME=VALUE, or NAME alone as docker takes
    it (the value read from this environment, so a secret stays out of argv; unset: left out)."""
    environ = os.environ if environ is None else environ
    args, from_env = {}, set()
    for item in items:
        name, sep, value = item.partition("=")
        if not ARG_NAME.match(name):
            raise UsageError(f"--build-arg expects NAME=VALUE or NAME, got {redact.value(name)[:40]!r}",
                             "NAME: letters, digits and '_'; NAME alone takes the value from the environment")
        if not sep:
            if name not in environ:
                warn(f"--build-arg {name}: not set in the environment; left out")
                continue
            value = environ[name]
            from_env.add(name)
        args[name] = value
    return args, from_env


def shown_args(args: dict[str, str], from_env: set[str]) -> str:
    """The build args line: values from the environment and of secret-looking names masked, URL credentials too."""
    safe = redact.mapping(args)
    return ", ".join(f"{k} (from the environment)" if k in from_env else f"{k}={v}" for k, v in safe.items())


@contextmanager
def secret_files(creds: credentials.Credentials):
    """BuildKit secrets for creds: id -> a 0600 file in a private temp folder, removed after the build."""
    if not creds.indexes:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="toolkit-secrets-") as tmp:
        path = Path(tmp) / "netrc"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(creds.netrc_text())
        yield {NETRC_SECRET: str(path)}


@contextmanager
def context_dir(keep: str | None):
    """A temporary build context, or DIR when --keep-context DIR. In DIR, prepare_context replaces
    only toolkit's own earlier context and refuses anything else: nothing there is ever wiped."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="toolkit-context-") as tmp:
            yield Path(tmp)
        return
    yield Path(keep)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    return f"{value:.2f} GB"


def human_time(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{seconds:.1f}s"


class PlainDisplay:
    """One line per step start and end, for logs and CI; step output only with -v."""

    def __init__(self, verbose: bool):
        self.verbose, self.t0 = verbose, time.monotonic()

    def __call__(self, ev: Event) -> None:
        step = ev.step
        if step and step.is_from and ev.kind in ("cached", "done"):
            return
        label = f"[{step.label}]" if step else "[build]"
        total = human_time(time.monotonic() - self.t0)
        if ev.kind == "start" and step:
            out(f"{label} {brief(step.instruction)}")
        elif ev.kind == "cached":
            out(f"{label} cached")
        elif ev.kind == "done" and step:
            out(f"{label} done in {step.elapsed:.1f}s (elapsed {total})")
        elif ev.kind == "error":
            out(f"{label} FAILED (elapsed {total})")
        elif ev.kind == "output" and self.verbose:
            out(f"    {ev.text}")

    def close(self) -> None:
        sys.stdout.flush()


class RichDisplay:
    """A live line with the running step and its latest output; finished steps printed above it."""

    def __init__(self, verbose: bool):
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.verbose = verbose
        self.console = console()
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.progress.start()
        self.task = self.progress.add_task("starting the build", total=None)

    def __call__(self, ev: Event) -> None:
        from rich.text import Text

        step, text = ev.step, printable(ev.text or "")
        head = printable(f"[{step.label}] {brief(step.instruction, 90)}" if step else "build")
        if ev.kind == "start":
            self.progress.update(self.task, description=Text(head).markup)
        elif ev.kind in ("cached", "done") and step and not step.is_from:
            note = "cached" if ev.kind == "cached" else f"{step.elapsed:.1f}s"
            self.console.print(Text.assemble(("✓ ", "green"), head, (f"  {note}", "dim")), no_wrap=True,
                               overflow="ellipsis")
        elif ev.kind == "error":
            self.console.print(Text.assemble(("✗ ", "red bold"), head, ("  failed", "red")), no_wrap=True,
                               overflow="ellipsis")
        elif ev.kind == "output":
            if self.verbose:
                self.console.print(Text("    " + text, style="dim"))
            self.progress.update(self.task, description=Text.assemble(head, "\n  ", (brief(text, 90), "dim")).markup)

    def close(self) -> None:
        self.progress.stop()


def summary(result: db.BuildResult) -> str:
    log = result.log
    short_id = result.image_id.split(":")[-1][:12]
    return (f"built {result.tag} (image {short_id}, {human_size(result.size)}) in {human_time(result.seconds)} "
            f"with {result.builder}; cached {log.cached}/{log.total} steps")


def bundle_build_plan(profile: str, compat_data: str | None, lock_file: str | None, bundle_dir: str, *,
                      base_image: str | None, no_buildkit: bool, keep_context: str | None, network: str | None):
    """build --bundle: (bundle plan, lock, network "none"); what cannot go with it is refused first."""
    from toolkit.commands.bundling import checked_bundle

    if no_buildkit:
        raise UsageError("--bundle needs BuildKit (its folders are bind-mounted into RUN steps)", "drop --no-buildkit")
    if base_image or keep_context or network not in (None, "none"):
        raise UsageError("--bundle builds with the base image and lock the bundle was made from, its network off, "
                         "in a temporary context: drop --base-image, --keep-context and --network")
    plan, lock, _ = checked_bundle(profile, compat_data, lock_file, bundle_dir)
    out(f"building from bundle {bundle_dir} with the network off (--network none)")
    return plan, lock, "none"


def bundle_context(bundle_dir: str, context: Path) -> tuple[str, ...]:
    """Copy the bundle's repository, wheelhouse and apt settings into the context (hard links where they can be);
    the RUN mounts that put them at the bundle's root, and a tmpfs for apt's lists of the bundle repository."""
    import shutil

    from toolkit.bundle import layout

    for part in (layout.DEBS, layout.WHEELS, layout.APT):
        shutil.copytree(Path(bundle_dir) / part, context / "bundle" / part, copy_function=_link_or_copy)
    return (f"--mount=type=bind,source=bundle,target={layout.ROOT}",
            f"--mount=type=tmpfs,target={layout.APT_STATE}")


def _link_or_copy(src: str, dst: str) -> None:
    import shutil

    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


@click.command("build")
@click.argument("profile", metavar="PROFILE")
@click.option("-t", "--tag", required=True, help="Name the image, e.g. myteam/datascience:1.0.")
@click.option("--base-image", default=None, metavar="IMAGE", help="Replace the base image (the FROM line).")
@click.option("--platform", default=None, help="Target platform, e.g. linux/amd64.")
@click.option("--no-cache", is_flag=True, help="Build every step again, ignoring the layer cache.")
@click.option("--build-arg", "build_args", multiple=True, metavar="NAME[=VALUE]",
              help="Build-time variable (repeatable); NAME alone takes its value from the environment (keeps "
                   "secrets out of argv). Values from the environment, of secret-looking names and URL "
                   "credentials are never printed.")
@click.option("--netrc", "netrc_file", default=None, metavar="FILE",
              help="Credentials of the profile's pip index and proxy (netrc format; default ~/.netrc when it "
                   "exists). Also read: TOOLKIT_PIP_INDEX_USERNAME/_PASSWORD, TOOLKIT_PROXY_USERNAME/_PASSWORD.")
@click.option("--network", type=click.Choice(["default", "host", "none"]), default=None,
              help="Network of the RUN steps (host: reach servers on this machine's 127.0.0.1).")
@click.option("--engine", type=click.Choice(["docker", "podman"]), default="docker", show_default=True,
              help="Build on a Docker engine (BuildKit) or with Podman (no daemon; rootless where the machine allows).")
@click.option("--no-buildkit", is_flag=True, help="Use the legacy builder even when BuildKit is available.")
@click.option("--keep-context", default=None, metavar="DIR",
              help="Write the build context into DIR and keep it (toolkit's earlier context there is replaced).")
@click.option("--force", is_flag=True, help="With --keep-context: overwrite files in DIR that toolkit did not write.")
@options.compat_data
@locking.lock_options()
@click.option("--bundle", "bundle_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Build from a bundle made by `toolkit bundle` with the build's network off: its apt repository "
                   "and wheelhouse are bind-mounted into each RUN step (BuildKit), never copied into a layer.")
@click.pass_context
def build(ctx: click.Context, profile: str, tag: str, base_image: str | None, platform: str | None, no_cache: bool,
          build_args: tuple[str, ...], netrc_file: str | None, network: str | None, engine: str,
          no_buildkit: bool, keep_context: str | None, force: bool, compat_data: str | None, locked: bool,
          lock_file: str | None, bundle_dir: str | None) -> None:
    """Build a container image from PROFILE on a Docker engine (or with Podman), following each step."""
    problem = tag_problem(tag)
    if problem:     # before anything is loaded or started: Docker would refuse it only after the build
        raise UsageError(f"-t/--tag: {problem}", EXAMPLE)
    if engine == "podman" and no_buildkit:
        raise UsageError("--no-buildkit picks Docker's legacy builder: not with --engine podman")
    if engine == "podman" and bundle_dir:
        raise UsageError("--bundle builds on a Docker engine with BuildKit: not with --engine podman")
    args, from_env = parse_build_args(build_args)
    if bundle_dir:
        plan, lock, network = bundle_build_plan(profile, compat_data, lock_file, bundle_dir, base_image=base_image,
                                                no_buildkit=no_buildkit, keep_context=keep_context, network=network)
    else:
        loaded = load_profile(profile)
        if base_image:
            loaded = with_base_image(loaded, base_image)
        plan, lock = locking.apply_lock(loaded, build_plan(loaded, compat_data), locked, lock_file)
    for warning in plan.warnings:
        warn(warning)
    if keep_context:
        db.check_context(plan, Path(keep_context), force=force)
    if engine == "podman":
        version = pb.check_engine()
        locking.check_base_image(pb.Images(), lock)
    else:
        api = db.connect()
        locking.check_base_image(api, lock)
    if lock is not None:
        out(f"locked: {len(lock.os_packages)} OS packages and {len(lock.pip)} pip packages pinned, "
            f"base image {lock.base_image.digest if lock.base_image else plan.target.base_image}")
    local = pb.has_image(plan.target.base_image) if engine == "podman" else bi.is_local(api, plan.target.base_image)
    if local is False:
        warn(bi.missing_note(plan.target.base_image))
    client = None if no_buildkit or engine == "podman" else db.buildkit_client()
    if engine == "podman":
        out(f"building {tag} from profile {plan.name} with Podman {version}")
    elif client:
        out(f"building {tag} from profile {plan.name} with BuildKit ({client})")
    else:
        why = "--no-buildkit" if no_buildkit else "no docker CLI with BuildKit (buildx, or a client before 23.0) found"
        out(f"building {tag} from profile {plan.name} with the legacy builder ({why})")
    creds = credentials.gather(plan, netrc_path=netrc_file)
    if creds and client is None and engine != "podman":
        raise UsageError("this profile's pip index or proxy needs credentials, which only BuildKit keeps out of "
                         "the image and its history; the legacy builder would leak them",
                         "build with BuildKit (drop --no-buildkit; install docker-buildx)")
    for line in creds.describe():
        out(line)
    if args:
        out("build args: " + shown_args(args, from_env))
    # The profile's proxy as docker's predefined build args (the Dockerfile declares none), its login
    # inserted; a --build-arg of the same name wins.
    all_args = {**creds.proxy_args(credentials.proxy_settings(plan)), **args}
    masked = creds.secrets() + tuple(args[k] for k in from_env)
    verbose = (ctx.obj or {}).get("verbose", 0) > 0
    with context_dir(keep_context) as directory, secret_files(creds) as secrets:
        db.prepare_context(plan, directory, buildkit=client is not None or engine == "podman", force=force,
                           shared_caches=engine == "podman",
                           run_mounts=bundle_context(bundle_dir, directory) if bundle_dir else ())
        if keep_context:
            out(f"build context (kept): {keep_context}")
        display = (RichDisplay if use_colour() else PlainDisplay)(verbose)
        request = db.BuildRequest(context=directory, tag=tag, build_args=all_args, no_cache=no_cache,
                                  platform=platform, network=network, secrets=secrets, masked=masked)
        try:
            result = pb.build(request, display) if engine == "podman" else db.build(request, display, buildkit=client)
        finally:
            display.close()
    out(summary(result))
    for line in next_steps(plan, tag, profile, engine=engine):
        out(line)


COMMANDS = [build]
