"""jupyter.proxy.tls: Nginx from the OS packages in front of Jupyter, in images and on hosts.

HTTPS on proxy.port with websocket upgrade headers, HTTP on 80 answered with a redirect to HTTPS, Jupyter
(which still requires its token) listening on 127.0.0.1 only and served under proxy.base_url. The certificate
is /var/lib/toolkit/tls/jupyter.pem + jupyter.key: made self-signed at first start when absent, kept when
present (mount yours there in a container, or put them there on a host). jupyter.proxy.cert/key install the
user's pair there on hosts (the key root-only, its content never in the plan, a log or an Ansible diff);
images leave them out (tls_files.py reads and checks them at plan time).

Nginx runs as one process tree from its own configuration (CONF, not the package's nginx.conf): in an image
the start script (START) starts it, then execs Jupyter (the image's CMD); on a host toolkit-jupyter_proxy.service
runs it as root (workers as nobody) and the package's own nginx.service is disabled so the ports are free.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from toolkit.components import tls_files
from toolkit.components.base import Context, package_unit_disabled, write_file
from toolkit.model.checks import Check, check
from toolkit.model.steps import Directory, Service, Step

TLS_DIR = "/var/lib/toolkit/tls"
CERT = f"{TLS_DIR}/jupyter.pem"
KEY = f"{TLS_DIR}/jupyter.key"
CONF = "/etc/toolkit/nginx/jupyter.conf"
START = "/usr/local/bin/toolkit-jupyter-proxy"
HTTP_PORT = 80
UNIT = "toolkit-jupyter_proxy.service"

START_SCRIPT = f"""\
#!/bin/sh
# Written by toolkit (jupyter.proxy.tls). toolkit-jupyter-proxy [COMMAND...]: makes a self-signed certificate
# for Nginx when {CERT} or {KEY} is missing (kept when present: put yours there), then with a
# COMMAND starts Nginx in the background and execs COMMAND (Jupyter: an image's CMD), without one runs Nginx
# in the foreground (a host's unit).
set -eu
c={CERT}
k={KEY}
if [ ! -s "$c" ] || [ ! -s "$k" ]; then
  umask 077
  n="$(uname -n)"
  openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 825 -subj "/CN=$n" \\
    -addext "subjectAltName=DNS:$n,DNS:localhost,IP:127.0.0.1" -keyout "$k" -out "$c.tmp" 2>/dev/null
  chmod 0644 "$c.tmp"
  mv -f "$c.tmp" "$c"
  echo "toolkit: made a self-signed certificate $c: $(openssl x509 -noout -fingerprint -sha256 -in "$c")" >&2
fi
if [ $# -eq 0 ]; then
  exec nginx -e stderr -c {CONF} -g 'daemon off;'
fi
nginx -e stderr -c {CONF}
exec "$@"
"""


def nginx_conf(port: int, base_url: str, upstream: int) -> str:
    """Nginx's whole configuration: no user (an image runs it as its user), temporary files under /tmp."""
    to_https = "https://$host$request_uri" if port == 443 else f"https://$host:{port}$request_uri"
    root = "" if base_url == "/" else f"    location = / {{ return 302 {base_url}; }}\n"
    return f"""\
# Written by toolkit (jupyter.proxy.tls): Nginx in front of Jupyter on 127.0.0.1:{upstream}.
worker_processes 2;
pid /tmp/toolkit-nginx.pid;
error_log stderr warn;
events {{ worker_connections 512; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
  server_tokens off;
  client_max_body_size 0;
  client_body_temp_path /tmp/toolkit-nginx-body;
  proxy_temp_path /tmp/toolkit-nginx-proxy;
  fastcgi_temp_path /tmp/toolkit-nginx-fastcgi;
  uwsgi_temp_path /tmp/toolkit-nginx-uwsgi;
  scgi_temp_path /tmp/toolkit-nginx-scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen {HTTP_PORT};
    return 301 {to_https};
  }}
  server {{
    listen {port} ssl;
    ssl_certificate {CERT};
    ssl_certificate_key {KEY};
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header Strict-Transport-Security "max-age=31536000" always;
{root}    location {base_url} {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Scheme $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1d;
      proxy_buffering off;
    }}
  }}
}}
"""


def steps(ctx: Context, user: str) -> list[Step]:
    """The proxy's steps (before the Jupyter service): Nginx and openssl, the folder, config and start script;
    on hosts with jupyter.service its own unit."""
    j = ctx.profile.jupyter
    conf = nginx_conf(j.proxy.port, j.proxy.base_url, j.port)
    out: list[Step] = [
        ctx.os_packages("jupyter", "Nginx and openssl (TLS proxy for Jupyter)", ("nginx", "openssl")),
        Directory("jupyter", f"TLS folder {TLS_DIR}", path=TLS_DIR, owner=user, group=user, mode="0700"),
        write_file("jupyter", "Nginx configuration (Jupyter proxy)", CONF, conf),
        write_file("jupyter", "Jupyter proxy start script", START, START_SCRIPT, mode="0755"),
    ]
    given = ""
    if j.proxy.cert:
        # Hosts only: Nginx's master runs as root there and reads the root-only key; an image's Nginx runs as
        # the image's user, and a key in an image layer is readable by everyone who has the image.
        chain, key = tls_files.cert_and_key(ctx)
        cert_step = replace(write_file("jupyter", "TLS certificate (jupyter.proxy.cert)", CERT, chain),
                            hosts_only=True)
        key_step = replace(write_file("jupyter", "TLS private key (jupyter.proxy.key)", KEY, key, mode="0600"),
                           hosts_only=True, secret=True)
        out += [cert_step, key_step]
        given = cert_step.sha256 + key_step.sha256
    if j.service or j.hub:
        # the configuration's and the given certificate's digest in the unit: a change restarts the proxy
        digest = hashlib.sha256((conf + START_SCRIPT + given).encode()).hexdigest()[:16]
        out += [package_unit_disabled("jupyter", "nginx.service", "toolkit's proxy unit serves 80 and "
                                      f"{j.proxy.port}"),
                Service("jupyter", "Nginx TLS proxy for Jupyter", name="jupyter_proxy", command=(START,),
                        in_image=False, enable_on_host=True, environment=(("TOOLKIT_PROXY_CONFIG", digest),))]
    return out


IMAGE_NOTE = ("jupyter.proxy.cert/key: installed on hosts only; an image leaves them out (a private key in an "
              f"image layer is readable by everyone who has the image): mount them at {CERT} and {KEY} at run time")


def warnings(ctx: Context) -> list[str]:
    return [IMAGE_NOTE] if ctx.profile.jupyter.proxy.cert else []


def checks(ctx: Context, env_file: str) -> list[Check]:
    """env_file: where a host's service keeps its token ("" in images: the container's JUPYTER_TOKEN)."""
    j = ctx.profile.jupyter
    return [check("jupyter_proxy", "jupyter", f"HTTPS on {j.proxy.port} with the certificate in {CERT}, HTTP "
                  f"redirected, the API refused without the token, a kernel runs 1+1 over a websocket",
                  port=j.proxy.port, http_port=HTTP_PORT, base_url=j.proxy.base_url, cert=CERT, jupyter_port=j.port,
                  env_file=env_file)]
