"""`toolkit build`: render a profile's Dockerfile and context, build it on a Docker engine, show progress."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import click

from toolkit.errors import UsageError
from toolkit.executors import docker_build as db
from toolkit.executors.build_progress import Event, brief
from toolkit.executors.image_tag import EXAMPLE, tag_problem
from toolkit.plan.builder import build_plan
from toolkit.profile import patterns
from toolkit.profile.loader import LoadedProfile, load_profile
from toolkit.ui import out, use_colour, warn

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


def parse_build_args(items: tuple[str, ...]) -> dict[str, str]:
    args = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not ARG_NAME.match(name):
            raise UsageError(f"--build-arg expects NAME=VALUE, got {item.split('=', 1)[0]!r}...")
        args[name] = value
    return args


@contextmanager
def context_dir(keep: str | None):
    """A temporary build context, or DIR when --keep-context DIR (replacing an earlier context there)."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="toolkit-context-") as tmp:
            yield Path(tmp)
        return
    path = Path(keep)
    if path.exists() and any(path.iterdir()):
        if not (path / "Dockerfile").is_file():
            raise UsageError(f"--keep-context {keep}: folder is not empty and holds no earlier build context")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    yield path


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
        if ev.kind == "start":
            out(f"{label} {brief(step.instruction)}")
        elif ev.kind == "cached":
            out(f"{label} cached")
        elif ev.kind == "done":
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
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.verbose = verbose
        self.console = Console()
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.progress.start()
        self.task = self.progress.add_task("starting the build", total=None)

    def __call__(self, ev: Event) -> None:
        from rich.text import Text

        step = ev.step
        head = f"[{step.label}] {brief(step.instruction, 90)}" if step else "build"
        if ev.kind == "start":
            self.progress.update(self.task, description=Text(head).markup)
        elif ev.kind in ("cached", "done") and not step.is_from:
            note = "cached" if ev.kind == "cached" else f"{step.elapsed:.1f}s"
            self.console.print(Text.assemble(("✓ ", "green"), head, (f"  {note}", "dim")), no_wrap=True,
                               overflow="ellipsis")
        elif ev.kind == "error":
            self.console.print(Text.assemble(("✗ ", "red bold"), head, ("  failed", "red")), no_wrap=True,
                               overflow="ellipsis")
        elif ev.kind == "output":
            if self.verbose:
                self.console.print(Text("    " + ev.text, style="dim"))
            self.progress.update(self.task, description=Text.assemble(head, "\n  ", (brief(ev.text, 90), "dim")).markup)

    def close(self) -> None:
        self.progress.stop()


def summary(result: db.BuildResult) -> str:
    log = result.log
    short_id = result.image_id.split(":")[-1][:12]
    return (f"built {result.tag} (image {short_id}, {human_size(result.size)}) in {human_time(result.seconds)} "
            f"with {result.builder}; cached {log.cached}/{log.total} steps")


@click.command("build")
@click.argument("profile", metavar="PROFILE")
@click.option("-t", "--tag", required=True, help="Name the image, e.g. myteam/datascience:1.0.")
@click.option("--base-image", default=None, metavar="IMAGE", help="Replace the base image (the FROM line).")
@click.option("--platform", default=None, help="Target platform, e.g. linux/amd64.")
@click.option("--no-cache", is_flag=True, help="Build every step again, ignoring the layer cache.")
@click.option("--build-arg", "build_args", multiple=True, metavar="NAME=VALUE",
              help="Build-time variable (repeatable); values of secret-looking names are never printed.")
@click.option("--no-buildkit", is_flag=True, help="Use the legacy builder even when BuildKit is available.")
@click.option("--keep-context", default=None, metavar="DIR", help="Write the build context into DIR and keep it.")
@click.option("--compat-data", type=click.Path(dir_okay=False), default=None,
              help="Extra compatibility data (YAML) overlaid on toolkit's own.")
@click.pass_context
def build(ctx: click.Context, profile: str, tag: str, base_image: str | None, platform: str | None, no_cache: bool,
          build_args: tuple[str, ...], no_buildkit: bool, keep_context: str | None, compat_data: str | None) -> None:
    """Build a container image from PROFILE on a Docker engine, following each step."""
    problem = tag_problem(tag)
    if problem:     # before anything is loaded or started: Docker would refuse it only after the build
        raise UsageError(f"-t/--tag: {problem}", EXAMPLE)
    args = parse_build_args(build_args)
    loaded = load_profile(profile)
    if base_image:
        loaded = with_base_image(loaded, base_image)
    plan = build_plan(loaded, compat_data)
    for warning in plan.warnings:
        warn(warning)
    db.connect()
    client = None if no_buildkit else db.buildkit_client()
    if client:
        out(f"building {tag} from profile {plan.name} with BuildKit ({client})")
    else:
        why = "--no-buildkit" if no_buildkit else "no docker CLI with BuildKit (buildx, or a client before 23.0) found"
        out(f"building {tag} from profile {plan.name} with the legacy builder ({why})")
    if args:
        out("build args: " + ", ".join(f"{k}={v}" for k, v in db.redacted(args).items()))
    verbose = (ctx.obj or {}).get("verbose", 0) > 0
    with context_dir(keep_context) as directory:
        db.prepare_context(plan, directory, buildkit=client is not None)
        if keep_context:
            out(f"build context (kept): {keep_context}")
        display = (RichDisplay if use_colour() else PlainDisplay)(verbose)
        request = db.BuildRequest(context=directory, tag=tag, build_args=args, no_cache=no_cache, platform=platform)
        try:
            result = db.build(request, display, buildkit=client)
        finally:
            display.close()
    out(summary(result))


COMMANDS = [build]
