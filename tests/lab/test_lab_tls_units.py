"""The HTTPS lab's pieces that need neither root nor namespaces: the lab's CA (a client that
trusts only its root accepts each leaf for its names, through the probe's own HTTPS GET), the
corrupt version (a key that is not the leaf's), the store in moto (create, then rotate), and
the checks' parsing. Loopback only."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from cryptography import x509

from hacompile.lab import probe
from hacompile.lab.booted.tls_checks import covers, serving, tls_sample
from hacompile.lab.cloud import put_secret
from hacompile.lab.tlsca import Issued, LabCa, fingerprint
from hacompile.standins.moto import MotoServer


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LabCa:
    return LabCa.create(tmp_path_factory.mktemp("ca"))


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<p>Pool web</p>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(issued: Issued, tmp: Path) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 with the stored bundle, as HAProxy's crt would load it."""
    pem = tmp / "bundle.pem"
    pem.write_text(issued.pem, encoding="utf-8")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hello)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _once(ca: LabCa, port: int, sni: str) -> dict[str, object]:
    cfg = {
        "cafile": str(ca.root_file),
        "timeout": 5,
        "requests": [{"url": f"https://127.0.0.1:{port}/", "sni": sni}],
    }
    return probe.once(cfg)[0]


def test_a_leaf_is_trusted_for_its_names_through_the_lab_root(ca: LabCa, tmp_path: Path) -> None:
    issued = ca.issue(("www.example.com", "api.example.com"))
    for port in _serve(issued, tmp_path):
        for name in ("www.example.com", "api.example.com"):
            got = _once(ca, port, name)
            assert got["status"] == 200 and got["error"] == "", got
            assert got["sha256"] == issued.sha256
        other = _once(ca, port, "other.example.com")
        assert other["status"] == 0 and "match" in str(other["error"]), other


def test_a_wildcard_covers_one_label(ca: LabCa, tmp_path: Path) -> None:
    issued = ca.issue(("*.cdn.example.com",))
    for port in _serve(issued, tmp_path):
        assert _once(ca, port, "probe.cdn.example.com")["sha256"] == issued.sha256
        assert _once(ca, port, "a.b.cdn.example.com")["error"]


def test_the_stored_bundle_is_leaf_intermediate_root_key(ca: LabCa) -> None:
    issued = ca.issue(("www.example.com",))
    certs = x509.load_pem_x509_certificates(issued.pem.encode())
    assert [c.subject for c in certs] == [
        certs[0].subject,
        ca.intermediate.subject,
        ca.root.subject,
    ]
    assert certs[1].issuer == ca.root.subject and certs[0].issuer == ca.intermediate.subject
    assert issued.pem.rstrip().endswith("-----END PRIVATE KEY-----")
    assert fingerprint(issued.pem) == issued.sha256
    # every rotation is a new key, so a new fingerprint
    assert ca.issue(("www.example.com",)).sha256 != issued.sha256


def test_a_corrupt_version_carries_a_key_that_is_not_the_leafs(ca: LabCa, tmp_path: Path) -> None:
    bad = ca.issue(("www.example.com",), wrong_key=True)
    pem = tmp_path / "bad.pem"
    pem.write_text(bad.pem, encoding="utf-8")
    with pytest.raises(ssl.SSLError, match=r"KEY_VALUES_MISMATCH|key values mismatch"):
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(pem)


def test_the_ca_keys_stay_private_in_the_lab_dir(ca: LabCa) -> None:
    for name in ("root.key", "intermediate.key"):
        assert (ca.root_file.parent / name).stat().st_mode & 0o777 == 0o600


def test_put_secret_creates_then_rotates_in_secrets_manager_and_ssm() -> None:
    with MotoServer() as moto:
        kw = {
            "endpoint_url": moto.url,
            "region_name": "eu-west-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        sm, ssm = boto3.client("secretsmanager", **kw), boto3.client("ssm", **kw)
        for value in ("first", "second"):
            put_secret(
                moto.url, "eu-west-1", {"store": "secretsmanager", "name": "a/b", "value": value}
            )
            put_secret(moto.url, "eu-west-1", {"store": "ssm", "name": "/a/b", "value": value})
            assert sm.get_secret_value(SecretId="a/b")["SecretString"] == value
            got = ssm.get_parameter(Name="/a/b", WithDecryption=True)["Parameter"]
            assert (got["Value"], got["Type"]) == (value, "SecureString")


def test_covers_and_serving_parse() -> None:
    assert covers("*.cdn.example.com", "probe.cdn.example.com")
    assert not covers("*.cdn.example.com", "cdn.example.com")
    assert not covers("*.cdn.example.com", "a.b.cdn.example.com")
    assert covers("www.example.com", "www.example.com")
    body = (
        'hacompile_tls_sync_ok{name="www"} 1\n'
        'hacompile_tls_serving_info{name="www",sha256="ab12"} 1\n'
        'hacompile_tls_serving_info{name="assets",sha256="cd34"} 1\n'
    )
    assert serving(body) == {"www": "ab12", "assets": "cd34"}
    assert tls_sample(body, "hacompile_tls_sync_ok", "www") == "1"
    assert tls_sample(body, "hacompile_tls_sync_ok", "assets") == ""
