"""A reverse proxy in front of the EC2 API that injects EC2's failures and records every call.

Why: a failover's claim must survive what real EC2 does under load (5xx answers, throttling
with RequestLimitExceeded), and tests must see exactly what the scripts sent. moto answers
everything at once and, in 5.2.1, ignores the requested private IP (see moto), so
`hacompile verify`, the script tests and the lab put a FaultProxy between the scripts and moto:
each request is parsed into its EC2 Action and parameters, checked against the Fault rules
(first rule with uses left wins) and either answered with EC2's XML error or forwarded.

Subclasses hook into `admit` (the lab wakes its edge sync there); `host`/`port` choose where
it listens (127.0.0.1 and a free port by default).
"""

from __future__ import annotations

import http.client
import random
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast
from xml.sax.saxutils import escape

from hacompile.standins.imds import LOCALHOST, OwnedHTTPServer, QuietHandler, ServedStub

__all__ = ["Fault", "FaultProxy", "FaultProxyHandler", "ProxiedRequest"]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}


@dataclass(frozen=True)
class Fault:
    """Fail matching requests like EC2 does; action "*" matches all, times=None means forever.

    `delay` (+ up to `jitter`) seconds: answer that late, like a slow or distant endpoint;
    with status 0 the request is then forwarded, not failed (the `busy-slow-api` scenario)."""

    action: str
    status: int = 503
    code: str = "RequestLimitExceeded"
    message: str = "Request limit exceeded."
    times: int | None = 1
    delay: float = 0.0
    jitter: float = 0.0

    @classmethod
    def latency(
        cls, action: str, delay: float, jitter: float = 0.0, times: int | None = None
    ) -> Fault:
        return cls(action, 0, "", "", times, delay, jitter)

    @classmethod
    def throttle(cls, action: str, times: int | None = 1) -> Fault:
        return cls(action, 503, "RequestLimitExceeded", "Request limit exceeded.", times)

    @classmethod
    def internal_error(cls, action: str, times: int | None = 1) -> Fault:
        return cls(action, 500, "InternalError", "An internal error has occurred.", times)

    def body(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
            f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
        ).encode()


@dataclass(frozen=True)
class ProxiedRequest:
    """One request seen by the proxy; failed_with is the injected status, None if forwarded;
    t is when it arrived (epoch seconds: the lab's report marks claim calls on its timeline)."""

    action: str
    params: Mapping[str, str]
    failed_with: int | None
    # what went over the wire, so tests can check how a request was made (its signature, its
    # client); header names are lower-case
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)
    body: bytes = field(default=b"", compare=False)
    t: float = field(default=0.0, compare=False)


class FaultProxyHandler(QuietHandler):
    """Serves one request for the FaultProxy that owns the server: fail it or forward it."""

    def _handle(self) -> None:
        proxy = cast(FaultProxy, cast(OwnedHTTPServer, self.server).owner)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        # admit() records the request; the wire details reach it through a thread-local, so
        # subclasses keep overriding admit(action, params) alone.
        proxy.wire.headers = {k.lower(): v for k, v in self.headers.items()}
        proxy.wire.body = body
        fault = proxy.admit(params.get("Action", ""), params)
        if fault is not None and fault.delay + fault.jitter > 0:
            time.sleep(fault.delay + random.uniform(0, fault.jitter))
        if fault is not None and fault.status:
            self.send(fault.status, fault.body(), [("Content-Type", "text/xml;charset=UTF-8")])
            return
        up = urllib.parse.urlsplit(proxy.upstream)
        conn = http.client.HTTPConnection(up.hostname or LOCALHOST, up.port or 80, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(self.command, self.path, body or None, headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as err:  # upstream down: answer like a gateway, do not drop the client
            self.send(502, f"upstream {proxy.upstream}: {err}".encode())
            return
        finally:
            conn.close()
        keep = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
        self.send(resp.status, data, keep)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class FaultProxy(ServedStub):
    """Threaded reverse proxy in front of `upstream` that injects Faults and records requests."""

    def __init__(
        self,
        upstream: str,
        faults: Sequence[Fault] = (),
        *,
        host: str = LOCALHOST,
        port: int = 0,
    ) -> None:
        self.upstream = upstream
        self.host, self.port = host, port
        self.url = ""
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._left: list[int | None] = []
        self._requests: list[ProxiedRequest] = []
        self._server: OwnedHTTPServer | None = None
        self.wire = threading.local()  # headers and body of the request this thread serves
        self.set_faults(faults)

    def set_faults(self, faults: Sequence[Fault]) -> None:
        """Replace the rules; for each request the first rule with uses left applies."""
        with self._lock:
            self._faults = list(faults)
            self._left = [f.times for f in faults]

    def clear(self) -> None:
        """Forget recorded requests (the rules stay)."""
        with self._lock:
            self._requests.clear()

    def admit(self, action: str, params: Mapping[str, str]) -> Fault | None:
        """Record one request and decide it: the Fault to answer with, or None to forward."""
        with self._lock:
            chosen: Fault | None = None
            for i, fault in enumerate(self._faults):
                left = self._left[i]
                if fault.action in ("*", action) and (left is None or left > 0):
                    self._left[i] = None if left is None else left - 1
                    chosen = fault
                    break
            status = chosen.status if chosen and chosen.status else None
            headers = dict(getattr(self.wire, "headers", {}))
            body = bytes(getattr(self.wire, "body", b""))
            self._requests.append(
                ProxiedRequest(action, dict(params), status, headers, body, time.time())
            )
            return chosen

    @property
    def requests(self) -> tuple[ProxiedRequest, ...]:
        with self._lock:
            return tuple(self._requests)

    def calls(self, action: str) -> tuple[ProxiedRequest, ...]:
        return tuple(r for r in self.requests if r.action == action)

    def counts(self) -> Counter[str]:
        """Requests per EC2 Action, failed ones included."""
        return Counter(r.action for r in self.requests)

    def _new_server(self) -> OwnedHTTPServer:
        return OwnedHTTPServer(FaultProxyHandler, self, self.host, self.port)
