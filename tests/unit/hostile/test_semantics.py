"""Hostile and careless profile values that pass their pattern but mean something dangerous or
something else: each is refused by `toolkit validate` with exit 2, file:line, the field and a hint,
never a traceback, never echoing a secret value or a raw control character.

One case per class (issue 12, "What a profile says is what happens", and issue 22's free text):
system-path venv, reserved / read-only / special / secret env names and credential values, a bad
listen address, unsafe git config without the opt-in, check and requirement duplicates, checks
named like toolkit's own, requirements pip would refuse, control and bidi characters in free text.
"""

from __future__ import annotations

import re

import pytest

from toolkit.cli import main

SECRET = "s3cr3t-Value-42"

# id: ({file: text}, file the error is in, line, field, message fragment)
CASES = {
    "venv-root": ({"p.yaml": "name: p\npython:\n  venv: /\n"}, "p.yaml", 3, "python.venv", "system folder"),
    "venv-usr-local": ({"p.yaml": "name: p\npython:\n  venv: /usr/local/\n"}, "p.yaml", 3, "python.venv",
                       "system folder"),
    "venv-in-etc": ({"p.yaml": "name: p\npython:\n  venv: /etc/venv\n"}, "p.yaml", 3, "python.venv",
                    "operating system"),
    "venv-a-home": ({"p.yaml": "name: p\npython:\n  venv: /home/dev\n"}, "p.yaml", 3, "python.venv",
                    "direct child of /home"),
    "venv-var-lib-pkg": ({"p.yaml": "name: p\npython:\n  venv: /var/lib/docker\n"}, "p.yaml", 3, "python.venv",
                         "a package"),
    "venv-toolkit-own": ({"p.yaml": "name: p\npython:\n  venv: /opt/toolkit/venv\n"}, "p.yaml", 3, "python.venv",
                         "toolkit owns"),
    "env-toolkit-internal": ({"p.yaml": "name: p\nenv:\n  TOOLKIT_DRY_RUN: \"0\"\n"}, "p.yaml", 3,
                             "env.TOOLKIT_DRY_RUN", "toolkit's own"),
    "env-toolkit-internal-lower": ({"p.yaml": "name: p\nenv:\n  toolkit_state_file: /etc/passwd\n"}, "p.yaml", 3,
                                   "env.toolkit_state_file", "toolkit's own"),
    "env-debian-frontend": ({"p.yaml": "name: p\nenv:\n  DEBIAN_FRONTEND: dialog\n"}, "p.yaml", 3,
                            "env.DEBIAN_FRONTEND", "toolkit sets it itself"),
    "env-bash-readonly": ({"p.yaml": "name: p\nenv:\n  SHELLOPTS: x\n"}, "p.yaml", 3, "env.SHELLOPTS",
                          "read-only bash variable"),
    "env-bash-special": ({"p.yaml": "name: p\nenv:\n  BASH_ENV: /tmp/x\n"}, "p.yaml", 3, "env.BASH_ENV",
                         "special shell variable"),
    "env-ifs": ({"p.yaml": "name: p\nenv:\n  IFS: x\n"}, "p.yaml", 3, "env.IFS", "special shell variable"),
    "env-ld-preload": ({"p.yaml": "name: p\nenv:\n  LD_PRELOAD: /tmp/x.so\n"}, "p.yaml", 3, "env.LD_PRELOAD",
                       "loads"),
    "env-proxy-by-hand": ({"p.yaml": "name: p\nenv:\n  HTTPS_PROXY: http://proxy:3128\n"}, "p.yaml", 3,
                          "env.HTTPS_PROXY", "network.proxy.https"),
    "env-git-config-bypass": ({"p.yaml": "name: p\nenv:\n  GIT_CONFIG_COUNT: \"1\"\n"}, "p.yaml", 3,
                              "env.GIT_CONFIG_COUNT", "allow_unsafe_config"),
    "env-tls-off": ({"p.yaml": "name: p\nenv:\n  GIT_SSL_NO_VERIFY: \"1\"\n"}, "p.yaml", 3, "env.GIT_SSL_NO_VERIFY",
                    "TLS"),
    "env-secret-token": ({"p.yaml": f"name: p\nenv:\n  HF_TOKEN: {SECRET}\n"}, "p.yaml", 3, "env.HF_TOKEN",
                         "docker run -e NAME"),
    "env-secret-aws": ({"p.yaml": f"name: p\nenv:\n  PYTHONUNBUFFERED: \"1\"\n  AWS_SECRET_ACCESS_KEY: {SECRET}\n"},
                       "p.yaml", 4, "env.AWS_SECRET_ACCESS_KEY", "looks like a secret"),
    "env-secret-password-camel": ({"p.yaml": f"name: p\nenv:\n  dbPassword: {SECRET}\n"}, "p.yaml", 3,
                                  "env.dbPassword", "looks like a secret"),
    "env-secret-in-parent": ({"base.yaml": f"name: base\nenv:\n  OPENAI_API_KEY: {SECRET}\n",
                              "p.yaml": "name: p\nextends: ./base.yaml\n"}, "base.yaml", 3, "env.OPENAI_API_KEY",
                             "looks like a secret"),
    "env-credential-url": ({"p.yaml": f"name: p\nenv:\n  DATABASE_URL: postgres://me:{SECRET}@db/x\n"}, "p.yaml", 3,
                           "env.DATABASE_URL", "holds credentials"),
    "env-value-never-echoed": ({"p.yaml": f"name: p\nenv:\n  MY_SETTING: \"{SECRET}$x\"\n"}, "p.yaml", 3,
                               "env.MY_SETTING", "character 16 ('$') is not allowed"),
    "jupyter-ip-word": ({"p.yaml": "name: p\njupyter:\n  enabled: true\n  ip: localhost\n"}, "p.yaml", 4,
                        "jupyter.ip", "IPv4 or IPv6"),
    "monitoring-listen-word": ({"p.yaml": "name: p\nmonitoring:\n  node_exporter: true\n  listen: 'a; rm -rf /'\n"},
                               "p.yaml", 4, "monitoring.listen", "IPv4 or IPv6"),
    "monitoring-listen-zone": ({"p.yaml": "name: p\nmonitoring:\n  listen: 'fe80::1%eth0'\n"}, "p.yaml", 3,
                               "monitoring.listen", "zone"),
    "monitoring-unknown-key": ({"p.yaml": "name: p\nmonitoring:\n  node_exporter: true\n  port: 9100\n"}, "p.yaml", 4,
                               "monitoring.port", "unknown key"),
    "jupyter-proxy-base-url-nginx": ({"p.yaml": "name: p\njupyter:\n  proxy:\n    base_url: '/a; return 200 x;/'\n"},
                                    "p.yaml", 4, "jupyter.proxy.base_url", "starts and ends with '/'"),
    "jupyter-proxy-base-url-dotdot": ({"p.yaml": "name: p\njupyter:\n  proxy:\n    base_url: /a/../b/\n"}, "p.yaml", 4,
                                      "jupyter.proxy.base_url", "starts and ends with '/'"),
    "jupyter-proxy-base-url-brace": ({"p.yaml": "name: p\njupyter:\n  proxy:\n    base_url: '/a}{/'\n"}, "p.yaml", 4,
                                     "jupyter.proxy.base_url", "starts and ends with '/'"),
    "jupyter-proxy-port": ({"p.yaml": "name: p\njupyter:\n  proxy:\n    port: 70000\n"}, "p.yaml", 4,
                           "jupyter.proxy.port", "65535"),
    "jupyter-proxy-public-ip": ({"p.yaml": "name: p\njupyter:\n  enabled: true\n  ip: 0.0.0.0\n  proxy: {tls: true}\n"},
                                "p.yaml", 4, "jupyter.ip", "loopback only"),
    "jupyter-ip-out-of-range": ({"p.yaml": "name: p\njupyter:\n  ip: 999.999.999.999\n"}, "p.yaml", 3,
                                "jupyter.ip", "IPv4 or IPv6"),
    "git-fsmonitor": ({"p.yaml": "name: p\ngit:\n  config:\n    core.fsmonitor: /tmp/x\n"}, "p.yaml", 4,
                      "git.config.core.fsmonitor", "allow_unsafe_config: true"),
    "git-ssl-verify-per-url": ({"p.yaml": "name: p\ngit:\n  config:\n    HTTP.example.com.SSLVERIFY: \"false\"\n"},
                               "p.yaml", 4, "git.config.HTTP.example.com.SSLVERIFY", "allow_unsafe_config"),
    "git-filter-driver": ({"p.yaml": "name: p\ngit:\n  config:\n    user.name: me\n    filter.lfs2.smudge: x\n"},
                          "p.yaml", 5, "git.config.filter.lfs2.smudge", "run a program"),
    "git-credential-in-parent": ({"base.yaml": "name: base\ngit:\n  config:\n    credential.helper: store\n",
                                  "p.yaml": "name: p\nextends: base.yaml\n"}, "base.yaml", 4,
                                 "git.config.credential.helper", "allow_unsafe_config"),
    "check-duplicate-name": ({"p.yaml": "name: p\nchecks:\n  - name: ok\n    command: [\"true\"]\n"
                                        "  - name: ok\n    command: [\"false\"]\n"}, "p.yaml", 5, "checks.1.name",
                             "duplicate check name 'ok' (first at p.yaml:3:5"),
    "check-named-like-builtin": ({"p.yaml": "name: p\nextends: pytorch-cuda\nchecks:\n  - name: driver-floor\n"
                                            "    command: [\"true\"]\n"}, "p.yaml", 4, "checks.1.name",
                                 "taken by toolkit's own check command:driver-floor"),
    "pip-duplicate-project": ({"p.yaml": "name: p\npackages:\n  pip:\n    - numpy>=1.26\n    - NumPy==1.26.4\n"},
                              "p.yaml", 5, "packages.pip.1", "duplicate requirement for 'numpy'"),
    "pip-duplicate-across-lists": ({"p.yaml": "name: p\npackages:\n  pip_base: [pandas]\n  pip:\n    - Pandas<3\n"},
                                   "p.yaml", 5, "packages.pip.0", "duplicate requirement for 'pandas'"),
    "apt-duplicate-package": ({"p.yaml": "name: p\npackages:\n  apt:\n    - curl\n    - curl=7.88.1-10\n"},
                              "p.yaml", 5, "packages.apt.1", "duplicate apt package 'curl'"),
    "pip-framework-owned": ({"p.yaml": "name: p\nextends: pytorch-cuda\npackages:\n  pip:\n    - torch==2.0.0\n"},
                            "p.yaml", 5, "packages.pip.0", "conflicts with frameworks.pytorch"),
    "pip-compatible-one-part": ({"p.yaml": "name: p\npackages:\n  pip: [\"numpy~=1\"]\n"}, "p.yaml", 3,
                                "packages.pip.0", "pip would refuse"),
    "pip-wildcard-ordered": ({"p.yaml": "name: p\npackages:\n  pip_base:\n    - numpy>=1.*\n"}, "p.yaml", 4,
                             "packages.pip_base.0", "pip would refuse"),
    "pip-local-version-ordered": ({"p.yaml": "name: p\npackages:\n  pip:\n    - torchx<=1.0+cpu\n"}, "p.yaml", 4,
                                  "packages.pip.0", "pip would refuse"),
    "description-bidi": ({"p.yaml": "name: p\ndescription: \"invoice\\u202Etxt.exe\"\n"}, "p.yaml", 2, "description",
                         "U+202E"),
    "description-escape": ({"p.yaml": "name: p\ndescription: \"red \\e[31m text\"\n"}, "p.yaml", 2, "description",
                           "U+001B"),
    "description-c1": ({"p.yaml": "name: p\ndescription: \"a \\x9b b\"\n"}, "p.yaml", 2, "description", "U+009B"),
    "description-zero-width": ({"p.yaml": "name: p\ndescription: \"a\\u200Bb\"\n"}, "p.yaml", 2, "description",
                               "U+200B"),
    "description-line-separator": ({"p.yaml": "name: p\ndescription: \"one\\u2028two\"\n"}, "p.yaml", 2,
                                   "description", "U+2028"),
}


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_refused_with_location(case, tmp_path, capsys, monkeypatch):
    files, where, line, field, fragment = CASES[case]
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, output = run(["validate", "p.yaml"], capsys)
    assert code == 2, output
    assert "Traceback" not in output
    assert re.search(rf"^  {re.escape(where)}:{line}:\d+: {re.escape(field)}: ", output, re.M), output
    assert fragment in output, output
    assert SECRET not in output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u202e]", output), repr(output)


ACCEPTED = {
    "description-punctuation": "name: p\ndescription: \"Alice's café: \\\"NumPy\\\" & $HOME `x` \\\\ {{ y }} 100%\"\n",
    "env-ordinary": "name: p\nenv:\n  PATH: /opt/bin:/usr/bin:/bin\n  LD_LIBRARY_PATH: /opt/lib\n"
                    "  TOKENIZERS_PARALLELISM: \"false\"\n  GPG_KEY: A035C8C19219BA821ECEA86B64E628F8D684696D\n"
                    "  PYTHONPATH: /srv/app\n",
    "venv-own-folders": "name: p\npython:\n  venv: /srv/app/venv\n",
    "jupyter-ipv6": "name: p\njupyter:\n  ip: \"::\"\n",
    "git-unsafe-opted-in": "name: p\ngit:\n  allow_unsafe_config: true\n  config:\n    core.pager: less\n",
    "git-ordinary": "name: p\ngit:\n  config:\n    pull.rebase: \"true\"\n    alias.co: checkout\n",
}


@pytest.mark.parametrize("case", list(ACCEPTED), ids=list(ACCEPTED))
def test_ordinary_values_still_pass(case, tmp_path, capsys, monkeypatch):
    (tmp_path / "p.yaml").write_text(ACCEPTED[case], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["validate", "p.yaml"])
    out = capsys.readouterr()
    assert exc.value.code in (0, None), out.err
