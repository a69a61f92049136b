"""jupyter.hub in a plan: Node.js/npm and the pinned configurable-http-proxy, JupyterHub in the venv, its root-only
folder, configuration (loopback, base_url, PAM, only the profile's accounts, one server each as that account) and
root unit behind the proxy's unit; the jupyterhub check instead of the single-server proxy check; what it needs is
refused, located, otherwise."""

from __future__ import annotations

import pytest

from toolkit.cli import main
from toolkit.components import jupyter_hub, jupyter_proxy
from toolkit.errors import EXIT_INVALID, ProfileError
from toolkit.model.steps import Directory, OsPackages, PipInstall, RunCommand, Service, WriteFile
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile

PROFILE = """\
name: hub
os: {distro: debian, version: "12"}
git: {enabled: false}
users:
  - {name: alice, uid: 2001}
  - {name: bob, uid: 2002}
jupyter:
  enabled: true
  hub: true
  proxy: {tls: true, base_url: /jl/}
"""


def plan_of(tmp_path, text=PROFILE):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return build_plan(load_profile(str(path)))


def test_the_hub_steps_unit_and_check(tmp_path):
    plan = plan_of(tmp_path)
    mine = [s for s in plan.steps if s.component == "jupyter"]
    assert any(isinstance(s, OsPackages) and s.packages == ("nodejs", "npm") for s in mine)
    (npm,) = [s for s in mine if isinstance(s, RunCommand) and s.argv[0] == "npm"]
    assert npm.argv[-1] == f"configurable-http-proxy@{jupyter_hub.CHP_VERSION}" and npm.unless[-1] == "4.6.3"
    assert any(isinstance(s, PipInstall) and s.requirements == ("jupyterhub",) for s in mine)
    (folder,) = [s for s in mine if isinstance(s, Directory) and s.path == jupyter_hub.HUB_DIR]
    assert (folder.owner, folder.mode) == ("root", "0700")
    units = {s.name: s for s in mine if isinstance(s, Service)}
    hub = units["jupyterhub"]
    assert hub.user == "root" and not hub.in_image and hub.enable_on_host
    assert hub.command == ("/opt/venv/bin/jupyterhub", "-f", jupyter_hub.CONFIG)
    assert units["jupyter_proxy"].enable_on_host and not units["jupyter"].enable_on_host   # the image's CMD only
    config = next(s for s in mine if isinstance(s, WriteFile) and s.path == jupyter_hub.CONFIG).content
    compile(config, "jupyterhub_config.py", "exec")
    assert 'c.JupyterHub.bind_url = "http://127.0.0.1:8888/jl/"' in config
    assert 'c.Authenticator.allowed_users = set(["alice", "bob"])' in config
    assert 'c.JupyterHub.authenticator_class = "pam"' in config and "Dummy" not in config
    assert 'c.Spawner.cmd = ["/opt/venv/bin/jupyterhub-singleuser"]' in config and 'c.Spawner.ip = "127.0.0.1"' in config
    kinds = [c.kind for c in plan.checks]
    assert "jupyterhub" in kinds and "jupyter_proxy" not in kinds and "jupyter_service" not in kinds
    (c,) = [c for c in plan.checks if c.kind == "jupyterhub"]
    assert c.p["base_url"] == "/jl/" and c.p["cert"] == jupyter_proxy.CERT and c.p["users"] == ("alice", "bob")
    assert any(w.startswith("jupyter.hub: hosts only") for w in plan.warnings)
    # the same Nginx configuration as the plain proxy: its upstream is jupyter.port, where the hub's proxy listens
    conf = next(s for s in mine if isinstance(s, WriteFile) and s.path == jupyter_proxy.CONF).content
    assert conf == jupyter_proxy.nginx_conf(443, "/jl/", 8888)


def test_a_new_account_restarts_the_hub(tmp_path):
    def env(plan):
        return next(s for s in plan.steps if isinstance(s, Service) and s.name == "jupyterhub").environment
    (tmp_path / "b").mkdir()
    more = PROFILE.replace("  - {name: bob, uid: 2002}\n", "  - {name: bob, uid: 2002}\n  - {name: carol, uid: 2003}\n")
    assert env(plan_of(tmp_path)) != env(plan_of(tmp_path / "b", more))


@pytest.mark.parametrize("edit,field,message", [
    (lambda t: t.replace("  proxy: {tls: true, base_url: /jl/}\n", ""), "jupyter.hub", "needs jupyter.proxy.tls"),
    (lambda t: t.replace("users:\n  - {name: alice, uid: 2001}\n  - {name: bob, uid: 2002}\n", ""), "jupyter.hub",
     "there is none"),
    (lambda t: t.replace("  hub: true\n", "  hub: true\n  service: true\n"), "jupyter.service", "one per account"),
    (lambda t: t.replace("  hub: true\n", "  hub: true\n  port: 8081\n"), "jupyter.port", "the hub's"),
])
def test_what_the_hub_needs_is_a_located_error(tmp_path, capsys, edit, field, message):
    path = tmp_path / "p.yaml"
    path.write_text(edit(PROFILE))
    with pytest.raises(ProfileError) as exc:
        build_plan(load_profile(str(path)))
    (p,) = exc.value.problems
    assert p.field == field and message in p.message and p.line is not None
    with pytest.raises(SystemExit) as ex:
        main(["plan", str(path)])
    err = capsys.readouterr().err
    assert ex.value.code == EXIT_INVALID and "Traceback" not in err and f"p.yaml:{p.line}:" in err
