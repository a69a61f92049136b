"""Checks across values of a merged profile tree, each located at the value at fault.

- two checks with one name, two requirements for one project (pip names canonicalised; `pip` and
  `pip_base` together), two apt entries for one package: after `extends` merging (the child wins,
  merge.py) any duplicate left comes from one file, and is an error there;
- git.config keys that run programs or weaken TLS, without git.allow_unsafe_config: true.

Runs on the located tree (not the model) so it reports together with schema errors; values of the
wrong type are skipped here (the schema reports them).
"""

from __future__ import annotations

from toolkit.errors import Problem
from toolkit.profile import hosts_semantics
from toolkit.profile import patterns as P
from toolkit.profile.merge import position_of
from toolkit.profile.policy import apt_key, requirement_key, unsafe_git_key
from toolkit.profile.yamlsource import LDict, LList


def problems(tree: LDict, file: str) -> list[Problem]:
    out: list[Problem] = []
    out += _duplicates(tree, file, [("checks",)], _check_name, "check name", "give each check its own name")
    out += _duplicates(tree, file, [("run",)], _check_name, "run step name", "give each run step its own name "
                       "(it names the step's state file /var/lib/toolkit/run/NAME)")
    out += _duplicates(tree, file, [("packages", "pip_requirements")], _str, "requirements file",
                       "list each file once")
    out += _duplicates(tree, file, [("packages", "pip_base"), ("packages", "pip")], _req_name,
                       "requirement for", "name each project once (pip and pip_base count together)")
    out += _duplicates(tree, file, [("packages", "apt")], _apt_name, "apt package", "name each package once")
    out += _unsafe_git(tree, file)
    out += hosts_semantics.problems(tree, file)
    return out


def _problem(tree, file: str, path: tuple, message: str, hint: str | None = None) -> Problem:
    pos = position_of(tree, path)
    field = ".".join(str(p) for p in path)
    return Problem(pos.file if pos else file, pos.line if pos else None, pos.column if pos else None,
                   field, message, hint)


def _node(tree, path: tuple):
    node = tree
    for part in path:
        if not isinstance(node, LDict) or part not in node:
            return None
        node = node[part]
    return node


def _items(tree, path: tuple):
    node = _node(tree, path)
    return list(enumerate(node)) if isinstance(node, LList) else []


def _check_name(item):
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) and P.PROFILE_NAME.fullmatch(name) else None


def _str(item):
    return item if isinstance(item, str) else None


def _req_name(item):
    return requirement_key(item) if isinstance(item, str) else None


def _apt_name(item):
    return apt_key(item) if isinstance(item, str) and P.APT_PACKAGE.fullmatch(item) else None


def _where(tree, path: tuple) -> str:
    pos = position_of(tree, path)
    return f"{pos.file}:{pos.line}:{pos.column}" if pos else ".".join(map(str, path))


def _duplicates(tree, file: str, lists, key, what: str, hint: str) -> list[Problem]:
    seen: dict[str, tuple] = {}
    out = []
    for path in lists:
        for i, item in _items(tree, path):
            name = key(item)
            if name is None:
                continue
            at = path + (i, "name") if what.endswith(" name") else path + (i,)
            if name in seen:
                out.append(_problem(tree, file, at, f"duplicate {what} {name!r} (first at {_where(tree, seen[name])})",
                                    hint))
            else:
                seen[name] = at
    return out


def _unsafe_git(tree, file: str) -> list[Problem]:
    git = _node(tree, ("git",))
    config = git.get("config") if isinstance(git, LDict) else None
    if not isinstance(config, LDict) or git.get("allow_unsafe_config") is True:
        return []
    return [_problem(tree, file, ("git", "config", key),
                     f"git config key {key} makes git run a program or weakens TLS or ownership checks",
                     "if you mean it, add `allow_unsafe_config: true` under git:")
            for key in config if isinstance(key, str) and P.GIT_CONFIG_KEY.fullmatch(key) and unsafe_git_key(key)]
