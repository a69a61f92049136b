"""Pin every pip package a plan installs, for the target (not this machine), with uv.

`resolve(requests, target)` takes the plan's PipInstall steps in install order and resolves the steps
of one venv together, in one consistent resolution (`uv pip compile`, one input file per step), for the
target's Python version and platform (`--python-version`, `--python-platform`). Each package goes to
the FIRST step whose requirements' dependency closure holds it, so a locked install is
`pip install --require-hashes --no-deps -r layer.txt` per step, in order, and each layer holds exactly
what it adds. Steps into different venvs are resolved separately.

Two uv runs per venv: the first resolves (versions, `# via` graph, `# from` index, hashes of every
file of each version); the second, `--no-deps` on the exact pins, writes a pylock.toml that lists only
the artifacts the target can install, so a package keeps the hashes of its target's files (numpy: 2
instead of 50). Where an index publishes no hash (PyTorch's, for some wheels), uv hashes the file it
downloads; a package left without any hash is an error.

Indexes: a step's own `index_url` that not every step shares (PyTorch's CUDA index) becomes an extra
index searched before the default one, the `index_url` most steps share (PyPI when none). uv's
`first-index` strategy takes a package from the first index that has it, as PyTorch recommends with uv:
torch comes from its CUDA index, and no other index can shadow it (no dependency confusion). A
package that index also serves (numpy, jinja2, pillow: it mirrors some) comes from it as well, in every
step, and its `index` says so; a locked install offers each package's recorded index, and the hashes
make the origin checkable. (Pinning only the torch step's packages to that index needs uv's project
mode, `tool.uv.sources`; `uv pip compile` has no per-requirement index.)
uv runs with `--no-config` and without the caller's resolution-changing UV_* variables (the profile
says where packages come from; the index URLs reach uv through its environment, not its command line),
trusting the system's CA store (`UV_SYSTEM_CERTS`: a TLS-intercepting
proxy's CA there is trusted). Index credentials come from ~/.netrc or NETRC, never from the lock: a
recorded index URL has its user part removed, and uv's messages pass through redact.url().
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from toolkit import redact
from toolkit.lock.model import LockError, PipPackage, PipRequest, PipTarget
from toolkit.lock.uv_output import Compiled, assign_layers, parse_compiled, parse_pylock

PYPI = "https://pypi.org/simple"
# UV_* variables that only tune transport or the cache: kept. Every other UV_* variable (indexes,
# strategies, exclude-newer, prerelease...) would change what is resolved, so it is dropped.
KEEP_UV_ENV = {"UV_CACHE_DIR", "UV_SYSTEM_CERTS", "UV_NATIVE_TLS", "UV_HTTP_TIMEOUT", "UV_REQUEST_TIMEOUT",
               "UV_HTTP_RETRIES", "UV_CONCURRENT_DOWNLOADS", "UV_CONCURRENT_BUILDS", "UV_KEYRING_PROVIDER"}
MAX_EXPLANATION = 2500


def resolve(requests: Sequence[PipRequest], target: PipTarget, *, previous: Sequence[PipPackage] = (),
            upgrade: bool = False, upgrade_packages: Sequence[str] = (), env: Mapping[str, str] | None = None,
            progress: Callable[[str], None] | None = None) -> tuple[PipPackage, ...]:
    """Every package the requests install, pinned with hashes, in step order (then by name).

    previous: the existing lock's pins, kept where they still fit unless upgrade (all) or
    upgrade_packages (those) say otherwise. env: the environment uv runs in (default: this process's).
    Raises LockError when the requirements conflict, an index cannot be reached, or a hash is missing."""
    venvs: dict[str, list[PipRequest]] = {}
    for req in requests:
        venvs.setdefault(req.venv, []).append(req)
    uv_env = uv_environment(os.environ if env is None else env)
    out: list[PipPackage] = []
    for group in venvs.values():
        steps = {r.step for r in group}
        prefs = [p for p in previous if p.step in steps]
        prefs += [p for p in previous if p.step not in steps and p.name not in {q.name for q in prefs}]
        out += _resolve_venv(group, target, prefs, upgrade, upgrade_packages, uv_env, progress or (lambda _m: None))
    return tuple(out)


def uv_environment(env: Mapping[str, str]) -> dict[str, str]:
    """env without the UV_* variables that change a resolution, trusting the system CA store."""
    clean = {k: v for k, v in env.items() if not k.startswith("UV_") or k in KEEP_UV_ENV}
    clean.setdefault("UV_SYSTEM_CERTS", "1")
    return clean


def uv_binary() -> str:
    try:
        import uv

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    raise LockError("uv is not installed", "toolkit resolves pip packages with uv, one of its dependencies: "
                    "reinstall toolkit (pip install toolkit) or `pip install uv`")


def _resolve_venv(group: list[PipRequest], target: PipTarget, previous: list[PipPackage], upgrade: bool,
                  upgrade_packages: Sequence[str], env: dict[str, str],
                  progress: Callable[[str], None]) -> list[PipPackage]:
    sources = Sources(group)
    env = {**env, **sources.env()}
    uv = uv_binary()
    # --python: this interpreter, only to read or build an sdist that has no static metadata; without it uv
    # would look for (and download) an interpreter of the target's version first
    common = ["--no-config", "--color", "never", "--quiet", "--no-header", "--no-python-downloads",
              "--python", sys.executable, "--python-version", target.python_version,
              "--python-platform", target.platform, "--index-strategy", "first-index", *sources.args()]
    with tempfile.TemporaryDirectory(prefix="toolkit-lock-") as tmp:
        work = Path(tmp)
        inputs = {}
        for i, req in enumerate(group, 1):
            name = f"step-{i:02d}.in"
            (work / name).write_text("".join(_requirement(r, req.step) + "\n" for r in req.requirements))
            inputs[name] = req.step
        if not upgrade:
            # uv takes an existing output file's pins as preferences
            (work / "resolved.txt").write_text("".join(f"{p.name}=={p.version}\n" for p in previous))
        count = sum(len(r.requirements) for r in group)
        progress(f"pip: resolving {count} requirements of {len(group)} steps for Python {target.python_version} "
                 f"on {target.platform} with uv")
        # Moving a package also refreshes what uv cached of the index pages (PyPI pages may be cached for
        # minutes; the package's new release may need its dependencies' new ones): an upgrade asked for
        # now sees the indexes as they are now.
        upgrades = ["--upgrade"] if upgrade else [a for n in upgrade_packages for a in ("--upgrade-package", n)]
        if upgrades:
            upgrades.append("--refresh")
        _run([uv, "pip", "compile", *common, "--generate-hashes", "--emit-index-annotation",
              "--annotation-style", "split", *upgrades, "-o", "resolved.txt", *inputs], work, env, inputs, target)
        try:
            compiled = parse_compiled((work / "resolved.txt").read_text())
        except ValueError as e:
            raise LockError(f"could not read uv's resolution: {redact.url(str(e))}",
                            "a uv release toolkit does not know: report it with `uv --version`") from None
        (work / "pins.in").write_text("".join(f"{p.name}=={p.version}\n" for p in compiled.values()))
        _run([uv, "pip", "compile", *common, "--no-deps", "--format", "pylock.toml", "-o", "pylock.toml", "pins.in"],
             work, env, inputs, target)
        artifacts = parse_pylock((work / "pylock.toml").read_text())
    layers = assign_layers(compiled, list(inputs))
    lost = sorted(set(compiled) - set(layers))
    if lost:
        raise LockError(f"could not tell which pip step needs {', '.join(lost)}",
                        "a uv release toolkit does not know: report it with `uv --version`")
    steps = list(inputs.values())
    packages = [_package(p, artifacts.get((p.name, p.version), []), steps[layers[p.name]], sources)
                for p in compiled.values()]
    missing = [p.name for p in packages if not p.hashes]
    if missing:
        raise LockError(f"no sha256 hash for {', '.join(sorted(missing))} (Python {target.python_version}, "
                        f"{target.platform})", "the index publishes none and uv computed none; put these wheels "
                        "in a wheelhouse (network.wheelhouse) or use an index that publishes hashes")
    progress(f"pip: {len(packages)} packages pinned, {sum(len(p.hashes) for p in packages)} artifacts hashed")
    order = {step: i for i, step in enumerate(steps)}
    return sorted(packages, key=lambda p: (order[p.step], p.name))


def _package(p: Compiled, arts: list[tuple[str, str]], step: str, sources: Sources) -> PipPackage:
    hashed = [(f, h) for f, h in arts if h]
    if hashed:
        hashes, files = sorted({h for _f, h in hashed}), sorted({f for f, _h in hashed})
    else:
        hashes, files = sorted(set(p.hashes)), []
    return PipPackage(p.name, p.version, tuple(hashes), sources.label(p.source), step, tuple(files))


class Sources:
    """Where one venv's steps find packages, as uv options, and the lock's name for each."""

    def __init__(self, group: Sequence[PipRequest]):
        offline = {r.no_index for r in group}
        if len(offline) > 1:
            raise LockError("some pip steps of one venv use no index and others do",
                            "network.offline applies to every pip step")
        self.no_index = offline == {True}
        urls = [r.index_url or PYPI for r in group]
        # the index most steps use is the default; ties go to the later step
        self.default = max(reversed(urls), key=urls.count)
        own = [u for u in urls if u != self.default] + [e for r in group for e in r.extra_index_urls]
        self.extra = list(dict.fromkeys(u for u in own if u != self.default))
        self.find_links = list(dict.fromkeys(r.find_links for r in group if r.find_links))

    def args(self) -> list[str]:
        links = [a for f in self.find_links for a in ("--find-links", str(Path(f).resolve()))]   # uv runs elsewhere
        return [*(["--no-index"] if self.no_index else []), *links]

    def env(self) -> dict[str, str]:
        """The indexes, for uv's environment rather than its command line (which every user can read)."""
        if self.no_index:
            return {}
        return {"UV_DEFAULT_INDEX": self.default, **({"UV_INDEX": " ".join(self.extra)} if self.extra else {})}

    def label(self, source: str | None) -> str:
        """The lock's name for uv's `# from` URL: the index URL without credentials, or find-links:<folder>."""
        if not source:
            return ""
        if source.startswith("file:"):
            path = Path(urllib.parse.unquote(urllib.parse.urlsplit(source).path)).resolve()
            for folder in self.find_links:
                if Path(folder).resolve() == path:
                    return f"find-links:{folder}"
            return f"find-links:{path}"
        for url in [self.default, *self.extra]:
            if _plain(url) == _plain(source):
                return _without_credentials(url)
        return _without_credentials(source)


def _plain(url: str) -> str:
    parts = urllib.parse.urlsplit(_without_credentials(url))
    return urllib.parse.urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def _without_credentials(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _requirement(text: str, step: str) -> str:
    """One requirement line for uv's input file: a plain name-and-version requirement, nothing a
    requirements file would read as an option, an include, a URL or a variable."""
    shown = redact.url(repr(text))
    if not text.strip() or text.lstrip().startswith("-") or any(c in text for c in "$\n\r\\#"):
        raise LockError(f"{step}: {shown} is not a pip requirement", "use NAME, NAME==VERSION or NAME>=A,<B")
    try:
        req = Requirement(text)
    except InvalidRequirement:
        raise LockError(f"{step}: {shown} is not a pip requirement", "use NAME, NAME==VERSION or NAME>=A,<B") from None
    if req.url:
        raise LockError(f"{step}: {shown} names a URL; a lock pins index packages",
                        "publish the package on an index or in a wheelhouse (network.wheelhouse)")
    return text.strip()


def _run(cmd: list[str], cwd: Path, env: dict[str, str], inputs: Mapping[str, str], target: PipTarget) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, errors="replace",
                              stdin=subprocess.DEVNULL)
    except OSError as e:
        raise LockError(f"could not run uv: {e}", "reinstall toolkit (uv is one of its dependencies)") from None
    if proc.returncode != 0:
        raise LockError(f"pip resolution for Python {target.python_version} on {target.platform} failed:\n"
                        f"{explanation(proc.stderr, inputs)}", hint_for(proc.stderr))


def explanation(stderr: str, inputs: Mapping[str, str] | None = None) -> str:
    """uv's message, trimmed for people: no warnings, no control characters, no credentials, each
    input file named by its plan step."""
    lines = []
    for line in stderr.splitlines():
        line = "".join(c if c.isprintable() else "?" for c in line.rstrip())
        if line.strip() and not line.lstrip().startswith("warning:"):
            lines.append("  " + redact.url(line))
    text = "\n".join(lines) or "  (uv said nothing)"
    for name, step in (inputs or {}).items():
        text = text.replace(f"-r {name}", f"step '{step}'").replace(name, f"step '{step}'")
    return text if len(text) <= MAX_EXPLANATION else text[:MAX_EXPLANATION] + "\n  ..."


HINTS = (
    (r"No solution found|unsatisfiable",
     "these pip requirements cannot all be installed together for the target: change or loosen the versions "
     "named above (packages.pip, packages.pip_base or a framework's version)"),
    (r"certificate|UnknownIssuer|tls handshake",
     "this machine does not trust the index's TLS certificate: add the CA that signs it (a TLS-intercepting "
     "proxy's) to the system CA store, or point SSL_CERT_FILE at a bundle that holds it"),
    (r"\b401\b|\b403\b|Unauthorized|Forbidden|credentials",
     "the index refused access: give its credentials in ~/.netrc (or the file NETRC names), never in the profile"),
    (r"Failed to fetch|error sending request|dns error|Connect|timed out|Could not connect|Request failed",
     "an index could not be reached from this machine (toolkit lock resolves here, not on the target): check "
     "HTTPS_PROXY / HTTP_PROXY and the profile's network.pip settings"),
    (r"not found in the (package registry|provided package locations)|no versions of",
     "a package or version named above is not on the profile's indexes (or in its wheelhouse): check the "
     "spelling and network.pip"),
)


def hint_for(stderr: str) -> str:
    for pattern, hint in HINTS:
        if re.search(pattern, stderr, re.IGNORECASE):
            return hint
    return "run the resolution again with `toolkit lock` to see whether it was a passing network failure"
