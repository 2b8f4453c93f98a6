"""The controller namespace's services for booted hosts: the package mirror and a resolver.

Why a resolver at all: a host with no answering DNS server makes `haproxy -c` (and sudo, and
apt) wait for time-outs on every name, and the bundle's backends may be DNS names. It answers
the lab's names (backends given as DNS names, the hosts' own names) with A records and every
other question with NXDOMAIN at once, as a VPC resolver does for a name that does not exist.

`python -m hacompile.lab.booted.serve CONFIG.json` serves CONFIG's `mirror` directory over HTTP
on `listen:http_port` and DNS on `listen:53` (UDP), prints `READY ...`, and ends by itself
after `max_seconds`.
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def dns_answer(query: bytes, names: dict[str, str]) -> bytes | None:
    """The reply to one DNS query: A records for `names` (lower-case FQDN -> IPv4), NXDOMAIN
    for other names, NOERROR with no answer for other types of a known name; None if garbage."""
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    if qdcount != 1 or flags & 0x8000:
        return None
    labels, pos = [], 12
    for _ in range(128):
        if pos >= len(query):
            return None
        length = query[pos]
        if length == 0 or length > 63:
            break
        labels.append(query[pos + 1 : pos + 1 + length].decode("ascii", "replace").lower())
        pos += 1 + length
    else:
        return None
    if pos + 5 > len(query) or query[pos] != 0:
        return None
    question_end = pos + 5
    qtype, qclass = struct.unpack("!HH", query[pos + 1 : question_end])
    name = ".".join(labels)
    address = names.get(name)
    answers = b""
    rcode = 0 if address is not None else 3
    if address is not None and qtype == 1 and qclass == 1:
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(address)
    header = struct.pack(
        "!HHHHHH", ident, 0x8180 | (flags & 0x0100) | rcode, 1, 1 if answers else 0, 0, 0
    )
    return header + query[12:question_end] + answers


def serve_dns(sock: socket.socket, names: dict[str, str]) -> None:
    for _ in range(100_000_000):
        try:
            query, peer = sock.recvfrom(512)
        except OSError:
            return
        reply = dns_answer(query, names)
        if reply is not None:
            sock.sendto(reply, peer)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m hacompile.lab.booted.serve CONFIG.json", file=sys.stderr)
        return 64
    cfg = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    handler = functools.partial(_Quiet, directory=cfg["mirror"])
    http = ThreadingHTTPServer((cfg["listen"], cfg["http_port"]), handler)
    http.daemon_threads = True
    threading.Thread(target=http.serve_forever, args=(0.2,), daemon=True).start()
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((cfg["listen"], 53))
    names = {k.lower().rstrip("."): v for k, v in cfg["names"].items()}
    threading.Thread(target=serve_dns, args=(dns, names), daemon=True).start()
    print(
        f"READY mirror http://{cfg['listen']}:{cfg['http_port']}/ dns {cfg['listen']}:53",
        flush=True,
    )
    time.sleep(cfg["max_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
