"""PID 1 of one lab host's PID namespace: private mounts, then reap orphans until told to stop.

Why a PID namespace per host: `pgrep -x haproxy` (the process check) must see only this LB's
processes, and "the whole LB is lost" must be one signal — SIGKILL to this process takes every
process of the namespace with it. Why mounts: the rendered configs name production paths
(/usr/local/sbin/hacompile-*, /run/hacompile, /etc/hosts); bind mounts in this host's private
mount namespace put the lab's copies there without editing a script or touching the machine.
Run as `python -m hacompile.lab.pidinit MOUNTS.json MAX_SECONDS` under `unshare --pid --fork
--mount-proc` inside `ip netns exec`. stdlib only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    mounts = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    deadline = time.monotonic() + float(argv[1])
    for source, target in mounts:
        subprocess.run(["mount", "--bind", source, target], check=True, timeout=10)
    print("READY", flush=True)
    while time.monotonic() < deadline:
        for _ in range(100):  # reap every orphan that has exited, then nap
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
