"""An IMDSv2 stand-in on 127.0.0.1, plus the tiny HTTP server base shared with faultproxy.

Why: the EIP notify script and the secondary-IP script read instance metadata (IMDSv2 only:
token PUT first, then token-authenticated GETs), which exists only on EC2. This stub serves the
paths they read from a plain dict. It imports only the standard library, so a test can run it as
`python -m hacompile.standins.imds --metadata FILE` inside a network namespace it created.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

LOCALHOST = "127.0.0.1"
TOKEN_PATH = "/latest/api/token"
META_PREFIX = "/latest/meta-data/"


class OwnedHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server whose handlers reach their Python owner via `self.server.owner`."""

    daemon_threads = True

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        owner: object,
        host: str = LOCALHOST,
        port: int = 0,
    ) -> None:
        super().__init__((host, port), handler)
        self.owner = owner

    def start(self) -> str:
        """Serve in a daemon thread; returns the base URL."""
        # A short poll interval keeps shutdown() (and so every test teardown) fast.
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return f"http://{self.server_address[0]!s}:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class ServedStub:
    """Context-manager half shared by the loopback stubs: serve on enter, stop on exit.

    Subclasses say which handler and address to serve with `_new_server`; `url` is set while
    the stub runs.
    """

    url: str
    _server: OwnedHTTPServer | None

    def _new_server(self) -> OwnedHTTPServer:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._server = self._new_server()
        self.url = self._server.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class QuietHandler(BaseHTTPRequestHandler):
    """No per-request stderr noise; `send` always sets Content-Length."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass(frozen=True)
class ImdsInterface:
    """One attached ENI as IMDS describes it; local_ipv4s[0] is the primary address."""

    mac: str
    interface_id: str
    local_ipv4s: tuple[str, ...]
    subnet_cidr: str
    device_number: int = 0


def imds_metadata(
    interfaces: Sequence[ImdsInterface], instance_id: str = "i-0123456789abcdef0"
) -> dict[str, str]:
    """The meta-data tree (paths below /latest/meta-data/) that the two scripts read."""
    data = {"instance-id": instance_id}
    if interfaces:
        data["mac"] = interfaces[0].mac
    for nic in interfaces:
        base = f"network/interfaces/macs/{nic.mac}/"
        data[base + "interface-id"] = nic.interface_id
        data[base + "local-ipv4s"] = "\n".join(nic.local_ipv4s)
        data[base + "subnet-ipv4-cidr-block"] = nic.subnet_cidr
        data[base + "device-number"] = str(nic.device_number)
    return data


class _ImdsHandler(QuietHandler):
    def _stub(self) -> ImdsStub:
        return cast(ImdsStub, cast(OwnedHTTPServer, self.server).owner)

    def do_PUT(self) -> None:
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") or ""
        self._stub().record("PUT", self.path)
        if self.path != TOKEN_PATH or not ttl.isdigit() or not 0 < int(ttl) <= 21600:
            self.send(400, b"Bad Request")
            return
        self.send(200, self._stub().new_token().encode())

    def do_GET(self) -> None:
        stub = self._stub()
        stub.record("GET", self.path)
        if not stub.valid(self.headers.get("X-aws-ec2-metadata-token") or ""):
            self.send(401, b"Unauthorized")
            return
        path = self.path
        answer = stub.lookup(path[len(META_PREFIX) :]) if path.startswith(META_PREFIX) else None
        if answer is None:
            self.send(404, b"Not Found")
        else:
            self.send(200, answer.encode(), [("Content-Type", "text/plain")])


class ImdsStub(ServedStub):
    """IMDSv2: PUT /latest/api/token (TTL header required), then GETs that need the token (401)."""

    def __init__(self, metadata: Mapping[str, str], host: str = LOCALHOST, port: int = 0) -> None:
        self.metadata = dict(metadata)
        self.host, self.port = host, port
        self.url = ""
        self._tokens: set[str] = set()
        self._seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: OwnedHTTPServer | None = None

    def new_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens.add(token)
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self._seen.append((method, path))

    @property
    def requests(self) -> tuple[tuple[str, str], ...]:
        """(method, path) of every request so far, in order."""
        with self._lock:
            return tuple(self._seen)

    def lookup(self, path: str) -> str | None:
        """A leaf's value, or a directory listing ("name" or "name/" per line) like IMDS."""
        if path in self.metadata:
            return self.metadata[path]
        prefix = path if path.endswith("/") or not path else path + "/"
        children: dict[str, None] = {}
        for key in sorted(self.metadata):
            if key.startswith(prefix):
                head, sep, _ = key[len(prefix) :].partition("/")
                children[head + sep] = None
        return "\n".join(children) if children else None

    def _new_server(self) -> OwnedHTTPServer:
        return OwnedHTTPServer(_ImdsHandler, self, self.host, self.port)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve IMDS from a JSON file until terminated; prints `READY <url>` once listening."""
    parser = argparse.ArgumentParser(prog="python -m hacompile.standins.imds")
    parser.add_argument("--metadata", type=Path, required=True, help="JSON object: path -> value")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    metadata = json.loads(args.metadata.read_text(encoding="utf-8"))
    with ImdsStub(metadata, port=args.port) as stub:
        print(f"READY {stub.url}", flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
