"""Small stdlib-only servers the lab runs inside namespaces: a backend and an IMDS stub.

Why separate entry points: each runs as its own process inside its host's namespace, so a
backend or an LB's metadata service fails and restarts on its own, like the real thing.
`python -m hacompile.lab.daemons backend NAME PORT` answers every GET with "backend NAME";
`python -m hacompile.lab.daemons imds FILE PORT` serves FILE's metadata on the cloud host at
169.254.169.254:PORT (the verify ImdsStub, bound to the metadata address instead of 127.0.0.1;
the cloud host redirects port 80 from each LB to that LB's PORT).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hacompile.lab.topology import IMDS_IP

MAX_SECONDS = 6 * 3600  # every daemon ends by itself


def backend(name: str, port: int) -> None:
    body = f"backend {name}\n".encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True).start()
    print(f"READY backend {name} :{port}", flush=True)
    time.sleep(MAX_SECONDS)


def imds(path: Path, port: int) -> None:
    from hacompile.standins.imds import ImdsStub

    with ImdsStub(json.loads(path.read_text(encoding="utf-8")), host=IMDS_IP, port=port) as stub:
        print(f"READY {stub.url}", flush=True)
        time.sleep(MAX_SECONDS)


def main(argv: list[str]) -> int:
    if argv[:1] == ["backend"] and len(argv) == 3:
        backend(argv[1], int(argv[2]))
    elif argv[:1] == ["imds"] and len(argv) == 3:
        imds(Path(argv[1]), int(argv[2]))
    else:
        print("usage: daemons backend NAME PORT | daemons imds FILE PORT", file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
