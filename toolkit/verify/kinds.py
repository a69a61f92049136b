"""The check-kind table: per kind, what the probe gathers for it, which facts it reads, how it is judged.

One row per kind of toolkit.model.checks.CHECK_KINDS, checked complete when this module is imported:
every kind has exactly one row with every part, each gatherer a row names is one the probe offers
(toolkit.verify.probe.GATHERERS, by key) and each gatherer the probe offers is used by some row.
The recipe for a new kind is in docs/architecture.md, "Adding a check kind".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields

from toolkit.model.checks import CHECK_KINDS, Check
from toolkit.verify import eval_accounts as acc
from toolkit.verify import eval_frameworks as fw
from toolkit.verify import eval_services, probe
from toolkit.verify import eval_system as sysm
from toolkit.verify.outcome import FRAMEWORK_MODULES, Outcome

Request = dict      # the probe request being built (JSON-shaped; see probe.jobs_for)
Params = dict       # a check's parameters (Check.p)


@dataclass(frozen=True)
class Kind:
    name: str                                       # Check.kind
    gathers: tuple[str, ...]                        # probe.GATHERERS keys its facts can come from
    request: Callable[[Request, Params], None]      # add what one check of this kind needs to the request
    sections: Callable[[Check], list[str]]          # the fact keys (probe sections) it reads
    evaluate: Callable[[Params, dict], Outcome]     # (params, facts) -> Outcome; pure


# --------------------------------------------------------------------------- request helpers
def _add(req: Request, key: str, value) -> None:
    items = req.setdefault(key, [])
    if value not in items:
        items.append(value)


def _python(req: Request, path: str) -> dict:
    return req.setdefault("pythons", {}).setdefault(path, {"dists": [], "imports": {}})


def _flag(key: str) -> Callable[[Request, Params], None]:
    return lambda req, p: req.__setitem__(key, True)


def _each(key: str, value: Callable[[Params], object]) -> Callable[[Request, Params], None]:
    return lambda req, p: _add(req, key, value(p))


def _fixed(*keys: str) -> Callable[[Check], list[str]]:
    return lambda check: list(keys)


def _nothing(req: Request, p: Params) -> None:
    """The GPU section is gathered on every run."""


def _interp_request(req: Request, p: Params) -> None:
    _python(req, p["python"])


def _writable(req: Request, p: Params) -> None:
    _add(req, "writable", {"user": p["user"], "dirs": list(p["dirs"]), "trees": list(p["trees"])})


def _jupyter(req: Request, p: Params) -> None:
    _add(req, "jupyter", {"python": p["python"], "flavor": p["flavor"], "port": p["port"],
                          **({"base_url": p["base_url"]} if "base_url" in p else {})})


def _jupyter_service(req: Request, p: Params) -> None:
    _add(req, "jupyter_service", {"unit": p["unit"], "ip": p["ip"], "port": p["port"], "env_file": p["env_file"],
                                  **({"base_url": p["base_url"]} if "base_url" in p else {})})


def _jupyter_proxy(req: Request, p: Params) -> None:
    _add(req, "jupyter_proxy", {k: p[k] for k in ("port", "http_port", "base_url", "cert", "jupyter_port",
                                                     "env_file")})


def _jupyterhub(req: Request, p: Params) -> None:
    _add(req, "jupyterhub", {k: p[k] for k in ("unit", "port", "base_url", "cert")})


def _metrics_endpoint(req: Request, p: Params) -> None:
    _add(req, "metrics_endpoint", {"unit": p["unit"], "ip": p["ip"], "port": p["port"], "metric": p["metric"]})


def _git(req: Request, p: Params) -> None:
    g = req.setdefault("git", {"lfs": False, "config": []})
    g["lfs"] = g["lfs"] or bool(p["lfs"])


def _git_config(req: Request, p: Params) -> None:
    g = req.setdefault("git", {"lfs": False, "config": []})
    if p["key"] not in g["config"]:
        g["config"].append(p["key"])


def _pip_check(req: Request, p: Params) -> None:
    _python(req, p["python"])["pip_check"] = True


def _pip_package(req: Request, p: Params) -> None:
    entry = _python(req, p["python"])
    if p["name"] not in entry["dists"]:
        entry["dists"].append(p["name"])
    framework = FRAMEWORK_MODULES.get(p["import_name"] or "")
    if framework:   # imported once, in that framework's own process
        entry.setdefault(framework, {})
    else:
        entry["imports"][p["name"]] = p["import_name"]


def _framework(name: str, gpu: bool = False, matmul: bool = False) -> Callable[[Request, Params], None]:
    def request(req: Request, p: Params) -> None:
        t = _python(req, p["python"]).setdefault(name, {})
        t["gpu"] = t.get("gpu", False) or gpu
        if name == "torch":
            t["matmul"] = t.get("matmul", False) or matmul
    return request


# --------------------------------------------------------------------------- sections
def _interp(check: Check) -> list[str]:
    return ["interp:" + check.p["python"]]


def _pip_package_sections(check: Check) -> list[str]:
    framework = FRAMEWORK_MODULES.get(check.p["import_name"] or "")
    return _interp(check) + ([f"{framework}:{check.p['python']}"] if framework else [])


def _framework_sections(name: str) -> Callable[[Check], list[str]]:
    return lambda check: [f"{name}:{check.p['python']}"] + (["gpu"] if check.tier == "gpu" else [])


# --------------------------------------------------------------------------- OS packages, per family
# family -> (the probe gatherer that reads its package database, the evaluator of its facts).
# A new family adds a gatherer to the probe and a row here (rhel: rpm).
PACKAGE_FAMILIES: Mapping[str, tuple[str, Callable[[Params, dict], Outcome]]] = {
    "debian": ("dpkg", sysm.dpkg_package),
    "rhel": ("rpm", sysm.rpm_package),
}
# family -> the evaluator of an exact (locked) version, from the same gatherer's facts.
PACKAGE_VERSIONS: Mapping[str, Callable[[Params, dict], Outcome]] = {
    "debian": sysm.dpkg_package_version,
    "rhel": sysm.rpm_package_version,
}


def _os_package_request(req: Request, p: Params) -> None:
    if p["family"] in PACKAGE_FAMILIES:
        _add(req, PACKAGE_FAMILIES[p["family"]][0], p["name"])


def _os_package_sections(check: Check) -> list[str]:
    family = PACKAGE_FAMILIES.get(check.p["family"])
    return [family[0]] if family else []


def _os_package(p: Params, facts: dict) -> Outcome:
    family = PACKAGE_FAMILIES.get(p["family"])
    if family is None:
        return Outcome(False, f"{p['name']} installed", f"toolkit cannot query OS family {p['family']!r}",
                       f"verify a target of a family toolkit knows ({', '.join(sorted(PACKAGE_FAMILIES))})")
    return family[1](p, facts)


def _os_package_version(p: Params, facts: dict) -> Outcome:
    judge = PACKAGE_VERSIONS.get(p["family"])
    if judge is None:
        return Outcome(False, f"{p['name']} {p['version']} (locked)", f"toolkit cannot query OS family {p['family']!r}",
                       f"verify a target of a family toolkit knows ({', '.join(sorted(PACKAGE_VERSIONS))})")
    return judge(p, facts)


def _dist(req: Request, p: Params) -> None:
    entry = _python(req, p["python"])
    if p["name"] not in entry["dists"]:
        entry["dists"].append(p["name"])


# --------------------------------------------------------------------------- the table
ROWS: tuple[Kind, ...] = (
    Kind("os_release", ("os_release",), _flag("os_release"), _fixed("os_release"), sysm.os_release),
    Kind("os_package", tuple(g for g, _ in PACKAGE_FAMILIES.values()), _os_package_request, _os_package_sections,
         _os_package),
    Kind("python_version", ("interp",), _interp_request, _interp,
         sysm.python_version),
    Kind("venv", ("paths",), _each("paths", lambda p: p["path"]), _fixed("paths"), sysm.venv),
    Kind("pip_package", ("interp", "torch", "tf"), _pip_package, _pip_package_sections, sysm.pip_package),
    Kind("pip_version", ("interp",), _dist, _interp, sysm.pip_version),
    Kind("os_package_version", tuple(g for g, _ in PACKAGE_FAMILIES.values()), _os_package_request,
         _os_package_sections, _os_package_version),
    Kind("pip_check", ("pip_check",), _pip_check, lambda c: ["pip_check:" + c.p["python"]], sysm.pip_check),
    Kind("torch_cuda", ("torch",), _framework("torch"), _framework_sections("torch"), fw.torch_cuda),
    Kind("tensorflow_build", ("tf",), _framework("tf"), _framework_sections("tf"), fw.tensorflow_build),
    Kind("jupyter", ("jupyter",), _jupyter, lambda c: [probe.jupyter_key(c.p)], fw.jupyter),
    Kind("jupyter_service", ("jupyter_service",), _jupyter_service, lambda c: [probe.jupyter_service_key(c.p)],
         eval_services.jupyter_service),
    Kind("jupyter_proxy", ("jupyter_proxy",), _jupyter_proxy, lambda c: [probe.jupyter_proxy_key(c.p)],
         eval_services.jupyter_proxy),
    Kind("jupyterhub", ("jupyterhub",), _jupyterhub, lambda c: [probe.jupyterhub_key(c.p)], eval_services.jupyterhub),
    Kind("metrics_endpoint", ("metrics_endpoint",), _metrics_endpoint, lambda c: [probe.metrics_endpoint_key(c.p)],
         eval_services.metrics_endpoint),
    Kind("git", ("git",), _git, _fixed("git"), sysm.git),
    Kind("git_config", ("git",), _git_config, _fixed("git"), sysm.git_config),
    Kind("user", ("users",), _each("users", lambda p: p["name"]), _fixed("users"), sysm.user),
    Kind("shm", ("shm",), _flag("shm"), _fixed("shm"), sysm.shm),
    Kind("command", ("command",), _each("commands", lambda p: list(p["argv"])),
         lambda c: [probe.command_key(c.p["argv"])], sysm.command),
    Kind("file", ("files",), _each("files", lambda p: p["path"]), _fixed("files"), sysm.file),
    Kind("writable", ("writable",), _writable, lambda c: [probe.writable_key(c.p)], sysm.writable),
    Kind("gpu_driver", ("gpu",), _nothing, _fixed("gpu"), fw.gpu_driver),
    Kind("gpu_inventory", ("gpu",), _nothing, _fixed("gpu"), fw.gpu_inventory),
    Kind("torch_gpu", ("torch", "gpu"), _framework("torch", gpu=True), _framework_sections("torch"), fw.torch_gpu),
    Kind("torch_matmul", ("torch", "gpu"), _framework("torch", gpu=True, matmul=True), _framework_sections("torch"),
         fw.torch_matmul),
    Kind("tensorflow_gpu", ("tf", "gpu"), _framework("tf", gpu=True), _framework_sections("tf"), fw.tensorflow_gpu),
    Kind("account", ("users",), _each("users", lambda p: p["name"]), _fixed("users"), acc.account),
    Kind("authorized_key", ("ssh_keys",), _each("ssh_keys", lambda p: p["home"]), _fixed("ssh_keys"),
         acc.authorized_key),
    Kind("directory", ("dir_stats",), _each("dir_stats", lambda p: p["path"]), _fixed("dir_stats"), acc.directory),
    Kind("mount", ("mount_facts",), _each("mount_facts", lambda p: {"path": p["path"], "device": p["device"]}),
         _fixed("mount_facts"), acc.mount),
)


def index(rows: Iterable[Kind]) -> dict[str, Kind]:
    """The rows by kind name; a kind with two rows is refused."""
    out: dict[str, Kind] = {}
    for row in rows:
        if row.name in out:
            raise TypeError(f"check kind {row.name!r} has two rows in the check-kind table")
        out[row.name] = row
    return out


def check_complete(kinds: Iterable[str], table: Mapping[str, Kind], gatherers: Iterable[str]) -> None:
    """Refuse a table that misses a kind, names an unknown one, lacks a part, or leaves a gatherer unused."""
    kinds, offered = set(kinds), set(gatherers)
    problems = []
    if kinds - set(table):
        problems.append(f"kinds without a row: {', '.join(sorted(kinds - set(table)))}")
    if set(table) - kinds:
        problems.append(f"rows for kinds toolkit.model.checks does not declare: {', '.join(sorted(set(table) - kinds))}")
    used: set[str] = set()
    for name, row in sorted(table.items()):
        empty = [f.name for f in fields(Kind) if f.name != "name" and not getattr(row, f.name, None)]
        uncallable = [f for f in ("request", "sections", "evaluate") if f not in empty and not callable(getattr(row, f))]
        if empty or uncallable:
            problems.append(f"{name}: missing {', '.join(empty + uncallable)}")
        unknown = set(row.gathers or ()) - offered
        if unknown:
            problems.append(f"{name}: gatherers the probe does not offer: {', '.join(sorted(unknown))}")
        used |= set(row.gathers or ())
    if offered - used:
        problems.append(f"probe gatherers no kind uses: {', '.join(sorted(offered - used))}")
    if problems:
        raise TypeError("the check-kind table (toolkit/verify/kinds.py) is incomplete: " + "; ".join(problems)
                        + " (see docs/architecture.md, 'Adding a check kind')")


KINDS: Mapping[str, Kind] = index(ROWS)
check_complete(CHECK_KINDS, KINDS, probe.GATHERERS)
