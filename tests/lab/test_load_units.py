"""The busy family's load generator is bounded: its loops end at their deadline, and at once
when the lab closes the parent's stdin (also when the lab dies). No root needed: the
in-namespace side runs here as a plain child process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from hacompile.lab.hosts import py_env
from hacompile.lab.load import COMM


def _start(count: int, seconds: int) -> tuple[subprocess.Popen[str], list[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hacompile.lab.load", str(count), str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=py_env(),
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    assert line[0] == "READY"
    return proc, [int(p) for p in line[1:]]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_loops_spin_under_their_name_and_stop_when_stdin_closes() -> None:
    proc, pids = _start(2, 60)
    try:
        assert len(pids) == 2
        time.sleep(0.3)
        assert all(Path(f"/proc/{p}/comm").read_text().strip() == COMM for p in pids)
        # one session (one autogroup) for an LB's loops, like one HAProxy service
        assert len({os.getsid(p) for p in pids}) == 1
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    assert not any(_alive(p) for p in pids)


def test_loops_end_by_themselves_at_their_deadline() -> None:
    proc, pids = _start(1, 1)
    started = time.monotonic()
    assert proc.wait(timeout=10) == 0  # stdin still open: the deadline ended it
    assert time.monotonic() - started < 5
    assert not any(_alive(p) for p in pids)


def test_the_busy_family_is_selected_by_name_never_by_default() -> None:
    from hacompile.lab.scenarios import BUSY, select

    assert not {s.name for s in select(None, 3)} & {s.name for s in BUSY}
    family = select(["busy"], 3)
    assert [s.name for s in family] == [
        "busy-haproxy-killed",
        "busy-keepalived-killed",
        "busy-lb-lost",
        "busy-slow-api",
    ]
    assert all(s.load > 0 for s in family[:3])
    (slow,) = family[3].api
    assert (slow.status, slow.times, slow.delay, slow.jitter) == (0, None, 1.0, 1.0)
    assert [s.name for s in select(["busy-lb-lost", "haproxy-killed"], 2)] == [
        "busy-lb-lost",
        "haproxy-killed",
    ]
