"""The profile's own pip packages: their own layer, after the frameworks."""

from __future__ import annotations

from packaging.requirements import Requirement

from toolkit.components.base import Context, Contribution
from toolkit.components.python import pip_source
from toolkit.model.checks import check
from toolkit.model.steps import PipInstall

# Distributions whose import name differs from the project name.
IMPORT_NAMES = {
    "scikit-learn": "sklearn", "pyyaml": "yaml", "pillow": "PIL", "opencv-python": "cv2",
    "opencv-python-headless": "cv2", "beautifulsoup4": "bs4", "python-dateutil": "dateutil",
    "tensorflow-cpu": "tensorflow", "jupyterlab": "jupyterlab", "notebook": "notebook",
    "protobuf": "google.protobuf", "attrs": "attr",
}


def import_name(dist: str) -> str:
    key = dist.lower().replace("_", "-")
    return IMPORT_NAMES.get(key, key.replace("-", "_").replace(".", "_"))


def pip_checks(component: str, venv: str, requirements) -> list:
    out = []
    for spec in requirements:
        req = Requirement(spec)
        out.append(check("pip_package", component, f"{spec} installed and importable",
                         ident=f"pip_package:{req.name.lower()}", python=f"{venv}/bin/python",
                         name=req.name, specifier=str(req.specifier), import_name=import_name(req.name)))
    return out


def _layer(ctx: Context, title: str, reqs: tuple[str, ...]) -> Contribution:
    out = Contribution()
    if reqs:
        out.steps.append(PipInstall("packages", title, venv=ctx.target.venv, requirements=reqs, **pip_source(ctx)))
        out.checks += pip_checks("packages", ctx.target.venv, reqs)
    return out


def base(ctx: Context) -> Contribution:
    """packages.pip_base: the rarely changing data stack, in its own layer after the frameworks."""
    return _layer(ctx, "pip base packages", tuple(ctx.profile.packages.pip_base))


def contribute(ctx: Context) -> Contribution:
    """packages.pip: the list users edit most, so the last layer."""
    return _layer(ctx, "pip packages", tuple(ctx.profile.packages.pip))
