"""The spec's `tls`: off when absent (nothing planned, emitted or granted); when present the
role's variables and files, the IAM policy that reads exactly the stored certificates, HAProxy's
TLS binds, redirect and server TLS, all accepted by `haproxy -c`.

The root test runs the rendered HTTPS and redirect frontends in real HAProxy on loopback, with
stand-in certificates (hacompile.standins.tls): Mozilla's intermediate profile refuses TLS 1.1,
SNI picks the certificate, ALPN offers h2, HSTS and X-Forwarded-Proto are set, and plain HTTP is
answered with a 301 that keeps host, path and query.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hacompile.pipeline import compile_spec
from hacompile.plan.model import Tls
from hacompile.write import write
from tests.conftest import ROOT

BLUEPRINT = ROOT / "blueprints" / "https-pools.yaml"
TLS_FILES = (
    "ansible/roles/haproxy/files/hacompile-tls-sync",
    "ansible/roles/haproxy/templates/hacompile-tls-sync.service.j2",
    "ansible/roles/haproxy/templates/hacompile-tls-sync.timer.j2",
)


def _lb_vars(files: dict[str, bytes]) -> dict[str, object]:
    data: dict[str, object] = YAML(typ="safe").load(files["ansible/group_vars/lb.yml"])
    return data


@pytest.mark.parametrize(
    "spec",
    [p for p in sorted((ROOT / "blueprints").glob("*.yaml")) if "\ntls:" not in p.read_text()],
    ids=lambda p: p.stem,
)
def test_a_spec_without_tls_plans_and_emits_nothing_of_it(spec: Path) -> None:
    result = compile_spec(spec)
    assert result.plan.tls == Tls()
    files = {str(f.path): f.content for f in result.bundle.files}
    assert not [name for name in files if "tls" in name.rsplit("/", 1)[-1]]
    assert not [k for k in _lb_vars(files) if "tls" in k or k == "haproxy_hard_stop_after"]
    assert b"lb_tls_read" not in b"".join(files.values())


def test_the_role_may_read_exactly_the_stored_certificates() -> None:
    result = compile_spec(BLUEPRINT)
    files = {str(f.path): f.content for f in result.bundle.files}
    policy = json.loads(files["terraform/eu-west-1/policies/tls-read.json.tftpl"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadTheTlsSecrets"]["Action"] == "secretsmanager:GetSecretValue"
    assert by_sid["ReadTheTlsSecrets"]["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:${account_id}:secret:secure/tls/www-??????"
    ]
    assert by_sid["ReadTheTlsParameters"]["Resource"] == [
        "arn:aws:ssm:eu-west-1:${account_id}:parameter/secure/tls/assets"
    ]
    decrypt = by_sid["DecryptThemOnlyThroughTheirService"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"] == {
        "StringEquals": {
            "kms:ViaService": [
                "secretsmanager.eu-west-1.amazonaws.com",
                "ssm.eu-west-1.amazonaws.com",
            ]
        }
    }
    module_iam = files["terraform/modules/haproxy-ha/iam.tf"].decode()
    assert 'resource "aws_iam_role_policy" "lb_tls_read"' in module_iam
    root = files["terraform/eu-west-1/main.tf"].decode()
    assert "policies/tls-read.json.tftpl" in root and "aws_caller_identity" in root
    for name in TLS_FILES:
        assert name in files, name


def test_the_role_gets_the_files_to_fetch_and_the_profile() -> None:
    files = {str(f.path): f.content for f in compile_spec(BLUEPRINT).bundle.files}
    lb = _lb_vars(files)
    assert lb["haproxy_tls_dir"] == "/etc/haproxy/tls"
    assert lb["haproxy_tls_refresh"] == "1m"
    assert lb["haproxy_tls_files"] == [
        {
            "name": "www",
            "kind": "certificate",
            "store": "secretsmanager",
            "secret_id": "secure/tls/www",
            "names": ["www.example.com", "api.example.com"],
        },
        {
            "name": "assets",
            "kind": "certificate",
            "store": "ssm",
            "secret_id": "/secure/tls/assets",
            "names": ["*.cdn.example.com"],
        },
    ]
    fronts = {f["name"]: f for f in lb["haproxy_frontends"]}  # type: ignore[attr-defined]
    assert fronts["https"]["crts"] == ["/etc/haproxy/tls/www.pem", "/etc/haproxy/tls/assets.pem"]
    assert fronts["http"]["redirect_https"] is True
    # No private key material anywhere in the bundle.
    key = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\s*[A-Za-z0-9+/]{16}")
    assert not [n for n, c in files.items() if key.search(c)]


SERVER_TLS = """\
version: 1
name: mtls
regions:
  - name: eu-west-1
    vpc_cidr: 10.73.0.0/16
    zones: [eu-west-1a, eu-west-1b]
    pools:
      api: [{name: api1, address: 10.73.9.10, port: 8443}]
tls:
  certificates:
    - {name: www, secretsmanager: mtls/www, names: [www.example.com]}
  cas:
    - {name: internal, ssm: /mtls/internal-ca}
pools:
  - name: api
    check: {path: /health}
    tls: {ca: internal, server_name: api.internal}
haproxy:
  frontends:
    - {name: https, port: 443, tls: {certificates: [www]}, default_pool: api}
access:
  ssh_key_name: k
  ssh_cidrs: [198.51.100.0/24]
"""


@pytest.mark.tools
@pytest.mark.skipif(not shutil.which("haproxy"), reason="needs haproxy")
def test_servers_are_verified_against_the_ca_and_haproxy_accepts_it(tmp_path: Path) -> None:
    from hacompile.verify.base import Context
    from hacompile.verify.configs import check_haproxy

    spec = tmp_path / "ha.yaml"
    spec.write_text(SERVER_TLS)
    result = compile_spec(spec)
    files = {str(f.path): f.content for f in result.bundle.files}
    lb = _lb_vars(files)
    assert [f["kind"] for f in lb["haproxy_tls_files"]] == ["certificate", "ca"]  # type: ignore[index]
    out = tmp_path / "out"
    write(result.bundle, out)
    ctx = Context(out, tmp_path / "work")
    outcome = check_haproxy(ctx)
    assert outcome.findings == (), outcome.findings
    rendered = next((tmp_path / "work").rglob("haproxy.cfg")).read_text()
    assert re.search(
        r"server api1 10\.73\.9\.10:8443 check ssl verify required ca-file "
        r"/etc/haproxy/tls/internal\.pem sni str\(api\.internal\) check-sni api\.internal "
        r"verifyhost api\.internal",
        rendered,
    ), rendered


# --- real HAProxy on loopback ---------------------------------------------------------------


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports, all chosen while every probe socket is still bound.

    Probing one port at a time can hand out the same port twice, and haproxy binds with
    SO_REUSEPORT, so two frontends on one port both start and share the connections: a
    TLS client then meets the plain frontend (CI saw WRONG_VERSION_NUMBER exactly so).
    """
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"proto={self.headers.get('X-Forwarded-Proto')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _handshake(port: int, sni: str, **ctx_args: object) -> ssl.SSLSocket:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    for key, value in ctx_args.items():
        setattr(ctx, key, value)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname=sni)


@pytest.mark.root
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("haproxy") or not shutil.which("openssl"),
    reason="needs root (haproxy drops to its user), haproxy and openssl",
)
def test_https_frontend_in_real_haproxy(tmp_path: Path) -> None:
    from hacompile.standins.ansible_render import render_bundle
    from hacompile.standins.tls import bundle_tls_items, standin_tls

    golden = ROOT / "tests" / "golden" / "https-pools"
    cfg = render_bundle(golden, tmp_path / "rendered")[0].haproxy_cfg.read_text()
    cfg = standin_tls(cfg, bundle_tls_items(golden), tmp_path / "tls")
    https, plain, backend = _free_ports(3)
    cfg = cfg[: cfg.index("\nfrontend metrics")] + "\n"
    cfg = re.sub(r"^    (user|group|stats socket|lua-load) .*\n", "", cfg, flags=re.MULTILINE)
    cfg = cfg.replace("maxconn 20000", "maxconn 100")
    cfg = cfg.replace("bind :443 ", f"bind 127.0.0.1:{https} ").replace(
        "bind :80\n", f"bind 127.0.0.1:{plain}\n"
    )
    cfg = re.sub(r"(server \S+) \S+:80 check", rf"\1 127.0.0.1:{backend}", cfg)
    cfg = re.sub(r"^    (option httpchk|http-check) .*\n", "", cfg, flags=re.MULTILINE)
    (tmp_path / "haproxy.cfg").write_text(cfg)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", backend), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proc = subprocess.Popen(
        ["haproxy", "-db", "-f", str(tmp_path / "haproxy.cfg")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", https), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        with _handshake(https, "www.example.com") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.selected_alpn_protocol() == "h2"
            www = tls.getpeercert(binary_form=True)
        with _handshake(https, "x.cdn.example.com") as tls:
            assets = tls.getpeercert(binary_form=True)
        assert www != assets  # SNI picked the assets certificate
        with pytest.raises(ssl.SSLError):
            _handshake(
                https,
                "www.example.com",
                minimum_version=ssl.TLSVersion.TLSv1,
                maximum_version=ssl.TLSVersion.TLSv1_1,
            ).close()
        with _handshake(https, "www.example.com") as tls:
            tls.close()
        ctx = ssl.create_default_context(cafile=None)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", https, context=ctx, timeout=5)
        conn.request("GET", "/", headers={"Host": "www.example.com"})
        reply = conn.getresponse()
        assert reply.status == 200
        assert reply.getheader("Strict-Transport-Security") == (
            "max-age=31536000; includeSubDomains"
        )
        assert reply.read() == b"proto=https\n"
        conn.close()
        plain_conn = http.client.HTTPConnection("127.0.0.1", plain, timeout=5)
        plain_conn.request("GET", "/a/b?x=1&y=2", headers={"Host": "www.example.com"})
        moved = plain_conn.getresponse()
        assert moved.status == 301
        assert moved.getheader("Location") == "https://www.example.com/a/b?x=1&y=2"
        plain_conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        server.shutdown()
