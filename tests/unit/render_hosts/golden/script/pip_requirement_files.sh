# step 1: "packages: pip requirement files" (PipInstall)
s1_probe() {
/opt/venv/bin/python -c 'import json, sys
from importlib.metadata import PackageNotFoundError, distribution
from pip._vendor.packaging.requirements import Requirement
def done(path, constraint):
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("-c "):
            done(line[3:], True)
        if not line or line.startswith(("#", "-")):
            continue
        r = Requirement(line.split(" --hash=")[0])
        if r.marker is not None and not r.marker.evaluate({"extra": ""}):
            continue
        try:
            d = distribution(r.name)
        except PackageNotFoundError:
            if constraint:
                continue
            sys.exit(1)
        if not r.specifier.contains(d.version, prereleases=True):
            sys.exit(1)
        if r.url:
            info = json.loads(d.read_text("direct_url.json") or "{}")
            want = r.url.split("#")[0]
            if want.startswith("git+"):
                got = (info.get("vcs_info") or {}).get("commit_id") == want.rpartition("@")[2]
            else:
                got = info.get("url") == want
            if not got:
                sys.exit(1)
for p in sys.argv[1:]:
    done(p, False)
' /opt/toolkit/requirements/requirements.txt
}
s1_apply() {
/opt/venv/bin/python -m pip install --no-input --extra-index-url https://pypi.example.com/simple -r /opt/toolkit/requirements/requirements.txt
}
run_step 1 '{"step": 1, "kind": "PipInstall", "component": "packages", "title": "pip requirement files"}' 'packages: pip requirement files'
