"""What a profile says is what happens: extends keeps the child's check and requirement per name,
identity fields are not inherited, and the policy rules behind the located errors."""

from __future__ import annotations

import pytest

from toolkit.errors import ProfileError
from toolkit.plan.builder import build_plan
from toolkit.profile import policy
from toolkit.profile.loader import load_profile
from toolkit.profile.patterns import free_text, ip_address
from toolkit.redact import looks_secret


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def problems(path) -> list:
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    return list(exc.value.problems)


def test_child_check_replaces_the_parents_check_of_that_name(tmp_path):
    write(tmp_path, "parent.yaml", "name: parent\nchecks:\n  - name: smoke\n    command: [\"true\"]\n"
                                   "  - name: other\n    command: [\"true\"]\n")
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\nchecks:\n"
                                          "  - name: smoke\n    command: [\"false\"]\n")
    loaded = load_profile(child)
    assert [(c.name, c.command) for c in loaded.profile.checks] == [("other", ["true"]), ("smoke", ["false"])]
    checks = {c.id: c for c in build_plan(loaded).checks}
    assert checks["command:smoke"].p["argv"] == ("false",)


def test_child_requirement_wins_per_project_across_pip_lists(tmp_path):
    write(tmp_path, "parent.yaml", "name: parent\npackages:\n  pip_base: [\"numpy>=1.26,<3\", pandas]\n"
                                   "  pip: [Six]\n  apt: [curl=7.88.1-10, jq]\n")
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\npackages:\n"
                                          "  pip: [\"NumPy==1.26.4\", six==1.16.0]\n  apt: [curl]\n")
    loaded = load_profile(child)
    pk = loaded.profile.packages
    assert pk.pip_base == ["pandas"]
    assert pk.pip == ["NumPy==1.26.4", "six==1.16.0"]
    assert pk.apt == ["jq", "curl"]
    checks = {c.id: c for c in build_plan(loaded).checks}
    assert checks["pip_package:numpy"].p["specifier"] == "==1.26.4"


def test_requirement_duplicates_in_one_file_point_at_the_second(tmp_path):
    p = write(tmp_path, "p.yaml", "name: p\npackages:\n  pip_base:\n    - numpy\n  pip:\n    - scipy\n    - numpy==2.0\n")
    [pr] = problems(p)
    assert (pr.line, pr.field) == (7, "packages.pip.1") and pr.message.endswith("p.yaml:4:7)")


def test_name_and_description_are_not_inherited(tmp_path):
    write(tmp_path, "parent.yaml", "name: parent\ndescription: The parent's own words\n")
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\n")
    assert load_profile(child).profile.description == ""
    assert load_profile(child).chain[1].endswith("parent.yaml")
    nameless = write(tmp_path, "nameless.yaml", "extends: parent.yaml\ndescription: mine\n")
    [pr] = problems(nameless)
    assert pr.field == "name" and pr.message == "required field is missing"


def test_description_may_hold_punctuation_and_letters(tmp_path):
    text = "Alice's café: \"NumPy\" & $HOME `x` \\ {{ y }} 100% — naïve"
    p = write(tmp_path, "p.yaml", f"name: p\ndescription: '{text.replace(chr(39), chr(39) * 2)}'\n")
    assert load_profile(p).profile.description == text


def test_builtin_check_ids_keep_the_later_install(tmp_path):
    p = write(tmp_path, "p.yaml", "name: p\njupyter: {enabled: true}\npackages:\n  pip: [jupyterlab==4.2.5]\n")
    checks = {c.id: c for c in build_plan(load_profile(p)).checks}
    assert checks["pip_package:jupyterlab"].p["specifier"] == "==4.2.5"


def test_unsafe_git_config_passes_with_the_opt_in(tmp_path):
    p = write(tmp_path, "p.yaml", "name: p\ngit:\n  allow_unsafe_config: true\n  config:\n    core.sshCommand: ssh -i k\n")
    assert load_profile(p).profile.git.config == {"core.sshCommand": "ssh -i k"}


@pytest.mark.parametrize("name", ["HF_TOKEN", "GITHUB_TOKEN", "hf_token", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
                                  "OPENAI_API_KEY", "DB_PASSWORD", "MYSQLPASSWORD", "PGPASSFILE_PASS", "dbPassword",
                                  "GOOGLE_APPLICATION_CREDENTIALS", "SENTRY_DSN", "GITHUB_PAT", "CLIENT_SECRET",
                                  "SSH_PRIVATE_KEY", "JUPYTER_TOKEN", "APIKEY", "NPM_AUTH_TOKEN", "SECRET"])
def test_secret_names(name):
    assert looks_secret(name)


@pytest.mark.parametrize("name", ["TOKENIZERS_PARALLELISM", "PWD", "GPG_KEY", "SORT_KEY", "PATH", "PYTHONUNBUFFERED",
                                  "PASSAGE", "KEYBOARD", "CUDA_VISIBLE_DEVICES", "HF_HOME", "SECRETARY_NAME_X"])
def test_ordinary_names(name):
    assert not looks_secret(name)


@pytest.mark.parametrize("name,fragment", [
    ("TOOLKIT_STEP", "toolkit's own"), ("UID", "read-only"), ("EUID", "read-only"), ("PPID", "read-only"),
    ("BASHOPTS", "read-only"), ("BASH_XTRACEFD", "special"), ("PS4", "special"), ("GROUPS", "special"),
    ("VIRTUAL_ENV", "python.venv"), ("no_proxy", "network.proxy"), ("REQUESTS_CA_BUNDLE", "ca_certificates"),
    ("LD_AUDIT", "loads"), ("PYTHONHOME", "loads"), ("GIT_SSH_COMMAND", "git"), ("ANSIBLE_BECOME", "playbook"),
    ("PIP_TRUSTED_HOST", "TLS"), ("NODE_TLS_REJECT_UNAUTHORIZED", "TLS"),
])
def test_env_names_refused(name, fragment):
    assert fragment in (policy.env_name_problem(name) or "")


@pytest.mark.parametrize("name", ["PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "PIP_DISABLE_PIP_VERSION_CHECK", "TZ",
                                  "LANG", "HF_HOME", "OMP_NUM_THREADS", "NCCL_DEBUG"])
def test_env_names_allowed(name):
    assert policy.env_name_problem(name) is None


def test_credential_urls_in_values_are_refused_without_echo():
    why = policy.env_value_problem("https://user:hunter2@example.com/x")
    assert why and "hunter2" not in why
    assert policy.env_value_problem("https://example.com/a@b") is None
    assert policy.env_value_problem("me@example.com") is None


@pytest.mark.parametrize("path", ["/", "/usr", "/usr/", "/usr/local", "/usr/local/lib/venv", "/usr/lib/python3/x",
                                  "/etc", "/etc/venv", "/opt", "/bin", "/home", "/home/dev", "/var", "/var/lib/docker",
                                  "/var/lib/a/b", "/root", "/tmp", "/srv", "/mnt/data", "/media/usb", "/boot/x",
                                  "/proc/1", "/opt/toolkit", "/opt/toolkit/bootstrap", "/./etc", "/var/www/site"])
def test_system_venv_paths(path):
    assert policy.venv_path_problem(path)


@pytest.mark.parametrize("path", ["/opt/venv", "/opt/app/venv", "/srv/app", "/srv/app/venv", "/home/dev/venv",
                                  "/root/venv", "/usr/local/venv", "/venv", "/data/venvs/a", "/mnt/data/venv",
                                  "/var/www/site/venv", "/tmp/venv"])
def test_dedicated_venv_paths(path):
    assert policy.venv_path_problem(path) is None


@pytest.mark.parametrize("key", ["core.fsmonitor", "Core.SSHCommand", "core.hooksPath", "core.editor", "core.pager",
                                 "credential.helper", "credential.example.com.helper", "http.sslVerify",
                                 "http.example.com.sslVerify", "core.gitProxy", "diff.pdf.textconv",
                                 "filter.lfs.smudge", "filter.x.process", "sequence.editor", "pager.log",
                                 "gpg.program", "gpg.ssh.program", "init.templateDir", "protocol.ext.allow",
                                 "safe.directory", "http.proxy", "http.extraHeader", "uploadpack.packObjectsHook",
                                 "hook.pre-commit.command", "mergetool.x.cmd", "diff.external"])
def test_unsafe_git_keys(key):
    assert policy.unsafe_git_key(key)


@pytest.mark.parametrize("key", ["user.name", "user.email", "init.defaultBranch", "pull.rebase", "alias.co",
                                 "core.autocrlf", "url.example.com.insteadOf", "lfs.concurrenttransfers"])
def test_ordinary_git_keys(key):
    assert not policy.unsafe_git_key(key)


@pytest.mark.parametrize("spec", ["numpy~=1", "numpy>=1.*", "x<=1.0+cpu", "numpy===", "numpy=>1"])
def test_requirements_pip_refuses(spec):
    assert "pip would refuse" in (policy.requirement_problem(spec) or "")


@pytest.mark.parametrize("value", ["0.0.0.0", "127.0.0.1", "::", "::1", "2001:db8::1", "10.1.2.3"])
def test_ip_addresses(value):
    assert ip_address(value) == value


@pytest.mark.parametrize("value", ["localhost", "999.999.999.999", "1.2.3", "01.2.3.4", "fe80::1%eth0", "", "0.0.0.0 "])
def test_not_ip_addresses(value):
    with pytest.raises(ValueError):
        ip_address(value)


@pytest.mark.parametrize("ch", ["\x1b", "\x07", "\r", "\n", "\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\u200b",
                                "\u2028", "\ufeff", "\ue000"])
def test_free_text_refuses_controls_without_echo(ch):
    with pytest.raises(ValueError) as exc:
        free_text(f"a{ch}b")
    assert ch not in str(exc.value) and f"U+{ord(ch):04X}" in str(exc.value)
