"""The routed-pools blueprint's haproxy.cfg, as Ansible renders it, run by a real HAProxy on
loopback: each request reaches the pool its route names (the routes' meaning, not only their
syntax), with one small HTTP server per planned server answering with its own name.

The rendered config is moved onto loopback only where it names the cloud: the servers'
addresses, the frontend's port, and the global lines a non-root process cannot keep (user,
group, the admin socket, syslog, maxconn's file-descriptor limit). Everything that routes
(frontends, ACLs, use_backend, backends, checks) is the generated text.
"""

from __future__ import annotations

import http.client
import http.server
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from hacompile.pipeline import compile_spec
from hacompile.plan.routing import samples, serves
from hacompile.standins.ansible_render import render_bundle
from hacompile.verify.tools import executable
from hacompile.write import write
from tests.conftest import ROOT

pytestmark = pytest.mark.tools

ROUTED = ROOT / "blueprints" / "routed-pools.yaml"
CASES = [
    # (Host header, path, pool that must answer)
    ("api.example.com", "/", "api"),
    ("API.Example.com:80", "/v1/orders", "api"),  # case and port do not matter
    ("www.example.com", "/api", "api"),
    ("www.example.com", "/api/cart", "api"),
    ("www.example.com", "/apis", "web"),  # a prefix matches whole segments
    ("shop.example.com", "/api/cart", "web"),  # route 2 needs both host and path
    ("img.cdn.example.com", "/logo.png", "assets"),
    ("a.b.cdn.example.com", "/", "assets"),
    ("cdn.example.com", "/", "web"),  # *.cdn.example.com is not cdn.example.com
    ("www.example.com", "/static/app.js", "assets"),
    ("www.example.com", "/static", "web"),  # /static/ does not match /static itself
    ("anything.example.org", "/", "web"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Named(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def frontend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    haproxy = executable("haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed")
    tmp = tmp_path_factory.mktemp("routed")
    write(compile_spec(ROUTED).bundle, tmp / "bundle")
    text = render_bundle(tmp / "bundle", tmp / "rendered")[0].haproxy_cfg.read_text("utf-8")
    servers = []
    for name in re.findall(r"^    server (\S+) \S+ ", text, re.M):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), _Named)
        srv.name = name  # type: ignore[attr-defined]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        text = re.sub(
            rf"^(    server {name}) \S+ ", rf"\1 127.0.0.1:{srv.server_port} ", text, flags=re.M
        )
    port = _free_port()
    text = text.replace("    bind :80\n", f"    bind 127.0.0.1:{port}\n")
    text = re.sub(r"^    maxconn \d+$", "    maxconn 256", text, count=1, flags=re.M)
    text = "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith(("    user ", "    group ", "    stats socket", "    log /dev/log"))
    )
    (tmp / "haproxy.cfg").write_text(text + "\n", encoding="utf-8")
    proc = subprocess.Popen(
        [str(haproxy), "-db", "-f", str(tmp / "haproxy.cfg")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for srv in servers:
            srv.shutdown()


def _answer(port: int, host: str, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers={"Host": host})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    assert response.status == 200, (host, path, response.status, body)
    return body


@pytest.mark.parametrize(("host", "path", "pool"), CASES)
def test_each_host_and_path_reaches_its_pool(
    frontend: int, host: str, path: str, pool: str
) -> None:
    assert _answer(frontend, host, path).rsplit("-", 1)[0] == pool


def test_the_web_pool_sets_its_sticky_cookie(frontend: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", frontend, timeout=5)
    conn.request("GET", "/", headers={"Host": "www.example.com"})
    response = conn.getresponse()
    response.read()
    conn.close()
    assert (response.getheader("Set-Cookie") or "").startswith("WEBSRV=web-")


def test_the_labs_route_samples_reach_the_pool_they_expect(frontend: int) -> None:
    """The requests the booted lab's route check sends (hacompile.plan.routing.samples), asked
    of the real HAProxy: the pool each expects is the one that answers."""
    (fe,) = compile_spec(ROUTED).plan.haproxy.frontends
    got = [
        (s.host, s.path, _answer(frontend, s.host, s.path).rsplit("-", 1)[0]) for s in samples(fe)
    ]
    assert got == [(s.host, s.path, s.pool) for s in samples(fe)]
    assert {s.pool for s in samples(fe)} == {"api", "assets", "web"}


@pytest.mark.parametrize(
    ("host", "path", "pool"), [c for c in CASES if c[0].islower() and ":" not in c[0]]
)
def test_serves_means_what_haproxy_does(host: str, path: str, pool: str) -> None:
    (fe,) = compile_spec(ROUTED).plan.haproxy.frontends
    assert next((r.pool for r in fe.routes if serves(r, host, path)), fe.default_pool) == pool
