# step 1: "pytorch: PyTorch (cpu)" (PipInstall)
s1_probe() {
/opt/venv/bin/python -c 'import sys
from importlib.metadata import version, PackageNotFoundError
from pip._vendor.packaging.requirements import Requirement
for spec in sys.argv[1:]:
    r = Requirement(spec)
    try:
        v = version(r.name)
    except PackageNotFoundError:
        sys.exit(1)
    if not r.specifier.contains(v, prereleases=True):
        sys.exit(1)
' torch==2.7.1
}
s1_apply() {
/opt/venv/bin/python -m pip install --no-input --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple --find-links /opt/toolkit/wheelhouse --no-index -- torch==2.7.1
}
run_step 1 '{"step": 1, "kind": "PipInstall", "component": "pytorch", "title": "PyTorch (cpu)"}' 'pytorch: PyTorch (cpu)'
