"""Teardown by prefix: processes inside a run's namespaces die and the namespaces go, while
another run's namespaces stay (so concurrent labs and `--cleanup` of one prefix are safe)."""

from __future__ import annotations

import subprocess
import time

import pytest

from hacompile.lab import netns
from hacompile.lab.topology import new_prefix

pytestmark = [pytest.mark.root, pytest.mark.tools]  # network namespaces; the lab's tools


def test_destroy_kills_processes_and_removes_only_its_prefix(lab_ready: None) -> None:
    mine, other = new_prefix(), new_prefix()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for prefix in (mine, other):
            for host in ("a", "b"):
                netns.sh("ip", "netns", "add", f"{prefix}-{host}")
        procs = [
            subprocess.Popen(["ip", "netns", "exec", f"{mine}-a", "sleep", "300"]),
            subprocess.Popen(["ip", "netns", "exec", f"{other}-a", "sleep", "300"]),
        ]
        time.sleep(0.3)
        assert netns.lab_namespaces(mine) == [f"{mine}-a", f"{mine}-b"]
        assert netns.pids_in(f"{mine}-a") == [procs[0].pid]
        assert netns.destroy(mine) == [f"{mine}-a", f"{mine}-b"]
        assert procs[0].wait(timeout=10) != 0  # killed
        assert netns.lab_namespaces(mine) == []
        assert netns.lab_namespaces(other) == [f"{other}-a", f"{other}-b"]
        assert procs[1].poll() is None
    finally:
        netns.destroy(mine)
        netns.destroy(other)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    assert netns.lab_namespaces(other) == []
