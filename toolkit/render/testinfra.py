"""Plan -> a standalone pytest + testinfra suite: the plan's checks embedded as data.

Files: ``tests/test_<profile>.py`` (one parametrized test per check, the ``host`` fixture is
testinfra's, so ``pytest --hosts=docker://CID tests/test_<profile>.py`` works) and
``tests/conftest.py`` (the ``--require-gpu`` option). Both carry the do-not-edit header.
The templates live in toolkit/verify/templates/, beside the run-time helpers they call.
"""

from __future__ import annotations

import pprint

import jinja2

from toolkit.model.plan import Plan
from toolkit.render.common import Rendered, header

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("toolkit.verify", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
_env.filters["pyrepr"] = lambda v: pprint.pformat(v, width=110, sort_dicts=True)


def suite_path(plan: Plan) -> str:
    return f"tests/test_{plan.name.replace('-', '_').replace('.', '_')}.py"


def render(plan: Plan) -> Rendered:
    path = suite_path(plan)
    checks = [c.to_dict() for c in plan.checks]
    context = {"header": header(plan), "name": plan.name, "digest": plan.digest, "path": path,
               "checks": checks, "gpu_count": sum(c.tier == "gpu" for c in plan.checks)}
    return Rendered(files={
        path: _env.get_template("test_suite.py.j2").render(context),
        "tests/conftest.py": _env.get_template("conftest.py.j2").render(context),
    })
