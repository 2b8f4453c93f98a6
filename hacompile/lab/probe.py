"""The lab's client: a steady, bounded stream of HTTP requests to every EIP's lab address.

Why measure this way: what users feel is the gap in successful responses, not when an API call
returned. Requests are fired on a fixed clock (every `interval` s per EIP, each in its own worker
with a short timeout) so a hanging connection to a dead node does not slow the clock down; each
result is one JSON line `{"eip", "t" (send time), "ok", "who"}`. The stream stops when the stop
file appears, after `max_seconds`, or after `max_requests` per EIP, whichever comes first.
Runs as `python -m hacompile.lab.probe CONFIG.json` inside the client namespace.

A target with `sni` is HTTPS: a new TLS connection per request to the URL's address with that
server name, verified against `cafile` (the lab's root) and the name, as a browser would; its
line also carries `sha256`, the fingerprint of the certificate served (rotation shows there).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def https_get(url: str, sni: str, ctx: ssl.SSLContext, timeout: float) -> tuple[int, str, str]:
    """GET `url` over a fresh TLS connection to its address, sending `sni` as the server name
    and the Host header: the status, the body's start and the served leaf's SHA-256."""
    parts = urllib.parse.urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 443), timeout=timeout)
    conn = http.client.HTTPConnection(sni, parts.port or 443, timeout=timeout)
    try:
        tls = ctx.wrap_socket(sock, server_hostname=sni)
        conn.sock = tls
        der = tls.getpeercert(binary_form=True) or b""
        conn.request("GET", parts.path or "/", headers={"Host": sni})
        resp = conn.getresponse()
        body = resp.read(200).decode("utf-8", "replace").strip()
        return resp.status, body, hashlib.sha256(der).hexdigest()
    finally:
        conn.close()
        sock.close()


def _one(target: dict[str, Any], timeout: float, out: Any, lock: threading.Lock) -> None:
    sent = time.time()
    ok, who, sha = False, "", ""
    try:
        if "ctx" in target:
            status, who, sha = https_get(target["url"], target["sni"], target["ctx"], timeout)
            ok = status == 200
        else:
            with urllib.request.urlopen(target["url"], timeout=timeout) as resp:
                who = resp.read(200).decode("utf-8", "replace").strip()
                ok = resp.status == 200
    except Exception as exc:
        who = type(exc).__name__
    row = {"eip": target["eip"], "t": round(sent, 4), "ok": ok, "who": who}
    if sha:
        row["sha256"] = sha
    with lock:
        out.write(json.dumps(row) + "\n")
        out.flush()


def run(cfg: dict[str, Any]) -> None:
    interval = float(cfg["interval"])
    timeout = float(cfg["timeout"])
    stop = Path(cfg["stop"])
    deadline = time.monotonic() + float(cfg["max_seconds"])
    max_requests = int(cfg["max_requests"])
    lock = threading.Lock()
    targets = [dict(t) for t in cfg["targets"]]
    for target in targets:
        if target.get("sni"):
            target["ctx"] = ssl.create_default_context(cafile=target["cafile"])
    workers = max(4, int(len(targets) * (timeout / interval + 2)))
    with (
        open(cfg["out"], "a", encoding="utf-8") as out,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        print("READY", flush=True)
        start = time.monotonic()
        n = 0
        while n < max_requests and time.monotonic() < deadline and not stop.exists():
            for target in targets:
                pool.submit(_one, target, timeout, out, lock)
            n += 1
            time.sleep(max(0.0, start + n * interval - time.monotonic()))


def once(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """One HTTPS GET per `requests` entry (`url`, `sni`), verified against `cafile`: what each
    address serves for each name (`python -m hacompile.lab.probe --once JSON`, the checks')."""
    ctx = ssl.create_default_context(cafile=cfg["cafile"])
    answers: list[dict[str, Any]] = []
    for req in cfg["requests"]:
        try:
            status, body, sha = https_get(req["url"], req["sni"], ctx, float(cfg["timeout"]))
            answers.append({"status": status, "body": body, "sha256": sha, "error": ""})
        except Exception as exc:
            answers.append({"status": 0, "body": "", "sha256": "", "error": repr(exc)[:200]})
    return answers


def main(argv: list[str]) -> int:
    if argv[0] == "--once":
        print(json.dumps(once(json.loads(argv[1]))))
        return 0
    run(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
