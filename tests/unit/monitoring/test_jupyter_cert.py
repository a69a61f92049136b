"""jupyter.proxy.cert / key: the user's certificate and key replace the self-signed pair on hosts (the key
root-only, its text in no plan, Ansible output or message); images leave both out; bad pairs are located
errors (exit 2)."""

from __future__ import annotations

import datetime
import json

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.unit.certs import ca_pair
from toolkit.cli import main
from toolkit.components import jupyter_proxy
from toolkit.errors import EXIT_INVALID, ProfileError
from toolkit.model.steps import Service, WriteFile
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import ansible, dockerfile, script

PROFILE = ('name: jp\nos: {distro: debian, version: "12"}\ngit: {enabled: false}\n'
           "jupyter:\n  enabled: true\n  service: true\n  proxy:\n    tls: true\n"
           "    cert: certs/j.pem\n    key: certs/j.key\n")


def _pair(cn: str = "box.example") -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), pem.decode()


def _write(tmp_path, text=PROFILE, cert=None, key=None):
    c, k = _pair()
    (tmp_path / "certs").mkdir(exist_ok=True)
    (tmp_path / "certs" / "j.pem").write_text(c if cert is None else cert)
    (tmp_path / "certs" / "j.key").write_text(k if key is None else key)
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path, c, k


def _body(pem: str) -> str:
    """The base64 body of a PEM block (what would leak)."""
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def test_the_pair_is_installed_on_hosts_root_only_and_its_key_never_shown(tmp_path):
    path, cert, key = _write(tmp_path)
    plan = build_plan(load_profile(str(path)))
    files = {s.path: s for s in plan.steps if isinstance(s, WriteFile)}
    c, k = files[jupyter_proxy.CERT], files[jupyter_proxy.KEY]
    assert c.content == cert and c.hosts_only and not c.secret and c.mode == "0644"
    assert k.mode == "0600" and k.owner == "root" and k.hosts_only and k.secret
    assert "PRIVATE KEY" in k.content
    assert any("mount them at" in w for w in plan.warnings)
    steps = [s for s in plan.steps if s.component == "jupyter"]
    assert steps.index(c) > next(i for i, s in enumerate(steps) if s.title.startswith("TLS folder"))
    body = _body(k.content)[:40]
    assert body not in plan.to_json() and "(secret:" in plan.to_json()
    # Ansible: the key's task is out of the log and --diff; the rest of the playbook never holds it elsewhere
    rendered = ansible.render(plan).files
    tasks = yaml.safe_load(rendered["ansible/playbook.yml"])[0]["tasks"]
    (task,) = [t for t in tasks if t.get("ansible.builtin.copy", {}).get("dest") == jupyter_proxy.KEY]
    assert task["no_log"] is True and task["diff"] is False
    # an image: neither file (a certificate without its key is no use), a comment saying where to mount them
    text = dockerfile.render(plan).files
    assert not any(_body(cert)[:40] in t or body in t for t in text.values())
    assert f"# host-only, not in the image (mount it at run time): {jupyter_proxy.KEY}" in text["Dockerfile"]
    assert "write_file /var/lib/toolkit/tls/jupyter.key 0600 root" in script.render(plan).files["setup.sh"]


def test_a_new_certificate_restarts_the_proxy(tmp_path):
    def digest(folder):
        folder.mkdir()
        plan = build_plan(load_profile(str(_write(folder)[0])))
        return next(s for s in plan.steps if isinstance(s, Service) and s.name == "jupyter_proxy").environment
    assert digest(tmp_path / "a") != digest(tmp_path / "b")


@pytest.mark.parametrize("fields,message", [
    ("    cert: certs/j.pem\n", "go together: give both, or neither"),
    ("    key: certs/j.key\n", "go together: give both, or neither"),
])
def test_one_without_the_other_is_a_located_error(tmp_path, capsys, fields, message):
    path, _, _ = _write(tmp_path, PROFILE.split("    cert:")[0] + fields)
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(path)])
    err = capsys.readouterr().err
    assert exc.value.code == EXIT_INVALID and message in err and "jupyter.proxy" in err
    assert "p.yaml:7:" in err and "Traceback" not in err


def test_cert_without_tls_is_refused(tmp_path):
    path, _, _ = _write(tmp_path, PROFILE.replace("tls: true", "tls: false"))
    with pytest.raises(ProfileError) as exc:
        load_profile(str(path))
    assert "need jupyter.proxy.tls: true" in exc.value.problems[0].message


def _problem(path) -> str:
    with pytest.raises(ProfileError) as exc:
        build_plan(load_profile(str(path)))
    (p,) = exc.value.problems
    return f"{p.field}@{p.line}: {p.message}"


def test_a_key_of_another_certificate_is_refused_at_the_key(tmp_path):
    other_key = _pair()[1]
    path, _, _ = _write(tmp_path, key=other_key)
    got = _problem(path)
    assert got.startswith("jupyter.proxy.key@10:") and "is not the key of the first certificate" in got
    assert _body(other_key)[:20] not in got


@pytest.mark.parametrize("cert,key,field,message", [
    ("not a certificate\n", None, "jupyter.proxy.cert@9", "holds no valid PEM certificate"),
    (None, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "jupyter.proxy.key@10",
     "is not a PEM private key"),
])
def test_files_that_are_not_a_certificate_or_a_key_are_refused(tmp_path, cert, key, field, message):
    path, _, _ = _write(tmp_path, cert=cert, key=key)
    got = _problem(path)
    assert got.startswith(field) and message in got


def test_an_encrypted_key_or_a_key_inside_the_certificate_file(tmp_path):
    c, k = _pair()
    obj = serialization.load_pem_private_key(k.encode(), None)
    locked = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.BestAvailableEncryption(b"pw")).decode()
    path, _, _ = _write(tmp_path, cert=c, key=locked)
    assert "it is encrypted" in _problem(path)
    path, _, _ = _write(tmp_path, cert=c + k, key=k)
    got = _problem(path)
    assert got.startswith("jupyter.proxy.cert@9") and "also holds a private key" in got
    assert _body(k)[:20] not in got


def test_a_missing_file_exits_2_located(tmp_path, capsys):
    path, _, _ = _write(tmp_path)
    (tmp_path / "certs" / "j.key").unlink()
    with pytest.raises(SystemExit) as exc:
        main(["plan", str(path)])
    err = capsys.readouterr().err
    assert exc.value.code == EXIT_INVALID and "p.yaml:10:" in err and "cannot read private key file" in err
    assert "Traceback" not in err


def test_the_ca_helper_pair_is_accepted_too(tmp_path):
    cert, key = ca_pair()
    path, _, _ = _write(tmp_path, cert=cert, key=key)
    plan = build_plan(load_profile(str(path)))
    assert json.loads(plan.to_json())["name"] == "jp"


def render(profile, out) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["render", str(profile), "-o", str(out)])
    assert exc.value.code == 0


def test_renders_that_carry_the_key_are_written_for_their_owner_only(tmp_path, capsys):
    """setup.sh and the playbook hold the key (that is how it reaches a host): render writes them 0700/0600 and
    says so; a render without a key keeps the usual modes."""
    path, _, _ = _write(tmp_path)
    render(path, tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "setup.sh").stat().st_mode & 0o777 == 0o700
    assert (out / "ansible" / "playbook.yml").stat().st_mode & 0o777 == 0o600
    assert (out / "Dockerfile").stat().st_mode & 0o777 == 0o644       # holds no key
    assert "hold a private key from the profile" in capsys.readouterr().err
    plain = tmp_path / "plain.yaml"
    plain.write_text(PROFILE.replace("    cert: certs/j.pem\n    key: certs/j.key\n", ""))
    render(plain, tmp_path / "plain")
    assert (tmp_path / "plain" / "setup.sh").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "plain" / "ansible" / "playbook.yml").stat().st_mode & 0o777 == 0o644
    assert "private key" not in capsys.readouterr().err
