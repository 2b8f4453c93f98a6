"""The lab's client: a steady, bounded stream of HTTP requests to every EIP's lab address.

Why measure this way: what users feel is the gap in successful responses, not when an API call
returned. Requests are fired on a fixed clock (every `interval` s per EIP, each in its own worker
with a short timeout) so a hanging connection to a dead node does not slow the clock down; each
result is one JSON line `{"eip", "t" (send time), "ok", "who"}`. The stream stops when the stop
file appears, after `max_seconds`, or after `max_requests` per EIP, whichever comes first.
Runs as `python -m hacompile.lab.probe CONFIG.json` inside the client namespace.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def _one(eip: str, url: str, timeout: float, out: Any, lock: threading.Lock) -> None:
    sent = time.time()
    ok, who = False, ""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            who = resp.read(200).decode("utf-8", "replace").strip()
            ok = resp.status == 200
    except Exception as exc:
        who = type(exc).__name__
    with lock:
        out.write(json.dumps({"eip": eip, "t": round(sent, 4), "ok": ok, "who": who}) + "\n")
        out.flush()


def run(cfg: dict[str, Any]) -> None:
    interval = float(cfg["interval"])
    timeout = float(cfg["timeout"])
    stop = Path(cfg["stop"])
    deadline = time.monotonic() + float(cfg["max_seconds"])
    max_requests = int(cfg["max_requests"])
    lock = threading.Lock()
    targets = cfg["targets"]
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
                pool.submit(_one, target["eip"], target["url"], timeout, out, lock)
            n += 1
            time.sleep(max(0.0, start + n * interval - time.monotonic()))


def main(argv: list[str]) -> int:
    run(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
