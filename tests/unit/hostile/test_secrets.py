"""Hostile corpus, credentials: one case (at least) per way a secret could reach a person, a log, a
file or a command line. Every case plants a unique secret and asserts it never shows."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from toolkit.cli import main
from toolkit.commands.build_cmd import parse_build_args, shown_args
from toolkit.commands.doctor_cmd import write_facts
from toolkit.errors import UsageError
from toolkit.executors import docker_build as db
from toolkit.executors.build_progress import BuildLog
from toolkit.executors.local_apply import wrapper_text, write_credentials
from toolkit.executors.results import OutputTracker
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import ansible, dockerfile, script

SECRET = "S3cr3t-Zq9"
# passwords with the characters that trip masking: '@', ':', an encoded '@', a '/'
PASSWORDS = [SECRET, f"p@ss{SECRET}", f"{SECRET}:x@y", f"p%40{SECRET}", f"a/b{SECRET}"]
URL_FIELDS = {
    "network.pip.index_url": lambda u: {"network": {"pip": {"index_url": u}}},
    "network.pip.extra_index_urls.0": lambda u: {"network": {"pip": {"extra_index_urls": [u]}}},
    "network.proxy.http": lambda u: {"network": {"proxy": {"http": u}}},
    "network.proxy.https": lambda u: {"network": {"proxy": {"https": u}}},
    "network.apt_mirror": lambda u: {"network": {"apt_mirror": u}},
}


def run_cli(capsys, *argv) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def write_profile(folder: Path, doc: dict) -> Path:
    path = folder / "p.yaml"
    path.write_text(yaml.safe_dump({"name": "p", **doc}), encoding="utf-8")
    return path


# ------------------------------------------------------------ credentials in profile URLs

@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("field", sorted(URL_FIELDS))
def test_url_with_credentials_is_refused_and_never_echoed(field, password, tmp_path, capsys):
    url = f"http://user:{password}@idx.example.com/simple"
    code, text = run_cli(capsys, "validate", str(write_profile(tmp_path, URL_FIELDS[field](url))))
    assert code == 2 and field in text and "without credentials" in text
    assert SECRET not in text and "***@idx.example.com" in text


# ------------------------------------------------------------ build args

def test_build_arg_values_are_masked_by_name_by_url_and_by_origin():
    args, from_env = parse_build_args(
        ("HF_TOKEN=" + SECRET, f"PIP_INDEX_URL=https://u:{SECRET}@idx/simple", f"http_proxy=http://u:p@{SECRET}@p:1",
         "FROM_ENV", "PLAIN=1"), environ={"FROM_ENV": SECRET})
    assert args["FROM_ENV"] == SECRET and from_env == {"FROM_ENV"}
    line = shown_args(args, from_env)
    assert SECRET not in line
    assert "PIP_INDEX_URL=https://***@idx/simple" in line and "FROM_ENV (from the environment)" in line
    assert "PLAIN=1" in line


def test_build_arg_name_from_an_unset_variable_is_left_out(capsys):
    args, from_env = parse_build_args(("NOT_SET_ANYWHERE",), environ={})
    assert args == {} and "not set in the environment" in capsys.readouterr().err


def test_bad_build_arg_never_echoes_its_value():
    with pytest.raises(UsageError) as exc:
        parse_build_args((f"BAD NAME=http://u:{SECRET}@h",), environ={})
    assert SECRET not in exc.value.render()


def test_build_output_lines_are_scrubbed():
    request = db.BuildRequest(context=Path("."), tag="t:1", build_args={"API_KEY": SECRET, "X": "y"},
                              masked=("Another-S3cret",))
    clean = db._line_filter(request)
    line = clean(f"#5 RUN echo {SECRET} Another-S3cret http://u:p@ss@proxy:3128/")
    assert SECRET not in line and "Another-S3cret" not in line and "http://***@proxy:3128/" in line


def test_legacy_builder_refuses_a_build_with_secrets():
    request = db.BuildRequest(context=Path("."), tag="t:1", secrets={"toolkit-netrc": "/nonexistent"})
    with pytest.raises(db.ToolkitError, match="only\\s+BuildKit|BuildKit can keep"):
        db._build_legacy(request, None, BuildLog(), None)


# ------------------------------------------------------------ addresses, facts, logs, any output

@pytest.mark.parametrize("target", [f"ssh://deploy:{SECRET}@127.0.0.1:22", f"ssh://deploy:p@{SECRET}@127.0.0.1/x"])
def test_ssh_target_with_a_password_is_refused_without_echo(target, capsys):
    code, text = run_cli(capsys, "verify", "datascience-cpu", "--target", target)
    assert code == 2 and SECRET not in text


def test_inventory_host_with_a_password_is_refused_without_echo():
    from toolkit.executors import inventory

    with pytest.raises(UsageError) as exc:
        inventory.resolve((f"ftp://deploy:{SECRET}@127.0.0.1",), None, False)
    assert SECRET not in exc.value.render()


def test_saved_facts_mask_passwords_with_at_signs(tmp_path):
    path = tmp_path / "facts.json"
    write_facts({"env": {"https_proxy": f"http://user:p@ss{SECRET}@proxy:3128"}}, str(path))
    text = path.read_text()
    assert SECRET not in text and "p@ss" not in text and "http://***@proxy:3128" in json.loads(text)["env"]["https_proxy"]


def test_apply_logs_mask_known_secrets_and_url_credentials(tmp_path):
    log = (tmp_path / "host.log").open("w")
    tracker = OutputTracker("h", 3, log=log, secrets=("sudo-pw", SECRET))
    tracker.line(f"pip: Looking in indexes: http://u:{SECRET}@idx/simple and sudo-pw")
    log.close()
    text = (tmp_path / "host.log").read_text()
    assert SECRET not in text and "sudo-pw" not in text and "http://***@idx/simple" in text


def test_every_line_toolkit_prints_masks_url_credentials(capsys):
    from toolkit.ui import err, out, warn

    out(f"proxy http://u:{SECRET}@p:1")
    err(f"index https://u:p@{SECRET}@i/simple")
    warn(f"mirror http://{SECRET}@m/")
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err


# ------------------------------------------------------------ renders carry no credential

@pytest.fixture
def private_profile(tmp_path, monkeypatch):
    for name in ("TOOLKIT_PIP_INDEX_USERNAME", "TOOLKIT_PROXY_USERNAME"):
        monkeypatch.setenv(name, "user-" + SECRET)
    for name in ("TOOLKIT_PIP_INDEX_PASSWORD", "TOOLKIT_PROXY_PASSWORD", "http_proxy", "PIP_INDEX_URL"):
        monkeypatch.setenv(name, SECRET)
    doc = {"os": {"distro": "debian", "version": "12"}, "python": {"version": "system", "venv": "/opt/venv"},
           "user": {"name": "dev"}, "packages": {"pip": ["six"]},
           "network": {"proxy": {"http": "http://proxy.example:3128", "no_proxy": ["localhost"]},
                       "pip": {"index_url": "https://idx.example/simple"}}}
    return build_plan(load_profile(str(write_profile(tmp_path, doc))))


def test_rendered_outputs_hold_no_credential_and_no_proxy_arg(private_profile):
    docker_text = dockerfile.render(private_profile).files["Dockerfile"]
    texts = [docker_text, dockerfile.render(private_profile, buildkit=False).files["Dockerfile"],
             script.render(private_profile).files["setup.sh"], private_profile.to_json(),
             *ansible.render(private_profile).files.values()]
    assert not any(SECRET in t for t in texts)
    assert not re.search(r"^(ARG|ENV) .*proxy", docker_text, re.IGNORECASE | re.MULTILINE)
    assert "--mount=type=secret,id=toolkit-netrc,target=/run/secrets/toolkit-netrc,uid=1000,gid=1000" in docker_text
    assert "NETRC=/run/secrets/toolkit-netrc /opt/venv/bin/python -m pip install" in docker_text


def test_setup_sh_inserts_the_proxy_login_from_a_file_only(private_profile, tmp_path):
    text = script.render(private_profile).files["setup.sh"]
    function = re.search(r"^proxy_url\(\) \{.*?^\}$", text, re.MULTILINE | re.DOTALL).group(0)
    write_credentials(tmp_path, (("proxy-auth", "u:p%40ss\n"), ("netrc", "machine i login u password p\n")))
    assert stat.S_IMODE(os.stat(tmp_path / "credentials").st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in (tmp_path / "credentials").iterdir())
    creds = tmp_path / "credentials"
    for folder, want in ((str(creds), "http://u:p%40ss@proxy.example:3128"), ("", "http://proxy.example:3128")):
        got = subprocess.run(["bash", "-c", f'{function}\nTOOLKIT_CREDENTIALS="$1"; proxy_url http://proxy.example:3128',
                              "x", folder], capture_output=True, text=True, check=True).stdout
        assert got == want
    assert 'http_proxy="$(proxy_url http://proxy.example:3128)"; export http_proxy' in text
    assert "no_proxy=localhost" in text and "proxy_url localhost" not in text


def test_apply_wrapper_passes_the_credentials_folder_by_path():
    text = wrapper_text("/tmp/toolkit-apply.abc", [])
    assert '[ -d "$dir/credentials" ] && creds=("--credentials=$dir/credentials")' in text
    assert 'bash "$dir/setup.sh" "${creds[@]}" "$@"' in text


def test_devcontainer_passes_the_profiles_proxy_as_build_args_without_credentials(private_profile):
    from toolkit.render import devcontainer

    doc = json.loads(devcontainer.render(private_profile).files[".devcontainer/devcontainer.json"])
    assert doc["build"]["args"]["http_proxy"] == "http://proxy.example:3128"
    assert SECRET not in json.dumps(doc)
