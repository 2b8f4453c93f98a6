"""A bounded CPU load on the lab's LBs: the `busy` family's "real load balancers are busy".

Why this shape: a fault matrix on an idle machine says nothing about a tier whose HAProxy uses
every core. Each LB gets a fixed number of busy-loop processes at normal priority (nice 0, like
HAProxy), inside its own PID namespace so they die with the LB when it is lost. An LB's loops
share one session, so one scheduler autogroup, as HAProxy's threads share one process and one
service cgroup (with a session per loop the load weighs once per loop against every other
process group of the machine: measured, the AWS CLI calls of a claim then took 4-5 s each).
Three bounds keep a crashed lab from leaving a machine spinning: each loop ends by itself at a
wall-clock deadline, RLIMIT_CPU kills it a second after that much CPU time, and its parent
kills it as soon as the lab closes the parent's stdin (also when the lab itself dies). The lab
also kills the loops by the PIDs it found for them (host-side PIDs, checked against their name).

`python -m hacompile.lab.load COUNT SECONDS` is the in-namespace side; `Load` the lab's.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hacompile.lab.hosts import py_env
from hacompile.plan.model import Plan

COMM = "hclab-busy"  # the loops' process name: how the lab finds (and only kills) them
MAX_SECONDS = 900  # no load outlives this, whatever the caller asks


def _spin(deadline: float, seconds: int) -> None:
    Path("/proc/self/comm").write_text(COMM)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    while time.monotonic() < deadline:
        pass
    os._exit(0)


def main(argv: list[str]) -> int:
    count, seconds = int(argv[0]), min(int(argv[1]), MAX_SECONDS)
    deadline = time.monotonic() + seconds
    kids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            _spin(deadline, seconds)
        kids.append(pid)
    print("READY " + " ".join(map(str, kids)), flush=True)
    with contextlib.suppress(OSError):  # stdin closed (lab done or gone) or the deadline
        select.select([sys.stdin], [], [], max(0.0, deadline - time.monotonic()))
    for pid in kids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in kids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    return 0


@dataclass
class Load:
    """`count` busy loops on every LB of `lbs` (lab.lbs) for at most `seconds`."""

    lbs: dict[str, Any]
    count: int
    seconds: int
    parents: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    loops: dict[str, list[int]] = field(default_factory=dict)  # host-side PIDs per LB

    def __enter__(self) -> Load:
        self.refresh()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def refresh(self) -> None:
        """Start the loops on every LB that has none (again after a lost LB booted)."""
        for key, host in self.lbs.items():
            if self.count <= 0 or not host.init_pid or host.pids(COMM):
                continue
            old = self.parents.pop(key, None)
            if old is not None:
                _end(old)
            cmd = ["nsenter", "-t", str(host.init_pid), "-n", "-m", "-p", "--wd=/", "--"]
            cmd += [sys.executable, "-m", "hacompile.lab.load", str(self.count), str(self.seconds)]
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=py_env(),
                text=True,
                start_new_session=True,
            )
            self.parents[key] = proc
            assert proc.stdout is not None
            proc.stdout.readline()  # READY: the loops exist
            self.loops[key] = host.pids(COMM)

    def stop(self) -> None:
        for pids in self.loops.values():
            for pid in pids:
                with contextlib.suppress(OSError):
                    if Path(f"/proc/{pid}/comm").read_text().strip() == COMM:
                        os.kill(pid, signal.SIGKILL)
        for proc in self.parents.values():
            _end(proc)
        self.parents.clear()
        self.loops.clear()


def soak_seconds(plan: Plan) -> float:
    """How long the load runs before the fault: past the master-down interval (3 x advert_int
    + skew), so a backup starved into a false takeover shows before anything is injected."""
    return 3 * float(plan.keepalived.advert_int) + 3


def _end(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
