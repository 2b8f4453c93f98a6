"""How the lab does each fault of the matrix to an LB, and how it undoes it.

Why apart from the runner: what a fault *is* (which signal to which process, in which order,
which nft rule) is one idea; waiting for steady states and judging the results is another. The
order matters where Keepalived is concerned: its VRRP child must die before its parent, or the
child hears of its parent's death first and says goodbye (see `apply`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

from hacompile.lab import netns
from hacompile.lab.scenarios import Fault
from hacompile.lab.setup import Lab


def apply(lab: Lab, fault: Fault) -> None:
    host: Any = lab.lbs[fault.lb]
    if fault.kind in ("kill-haproxy", "crash-haproxy"):
        host.signal(lab.plan.flavor.haproxy_process, signal.SIGKILL)
    elif fault.kind == "stop-haproxy":
        host.stop_haproxy()
    elif fault.kind == "poweroff":
        host.poweroff()
    elif fault.kind == "kill-keepalived":
        # The VRRP child first, its parent stopped meanwhile (so it cannot respawn it): killed
        # after its parent, the child would get its parent-death signal (SIGTERM) in between
        # and say goodbye (priority 0), which made 2 of 3 busy runs a graceful stop (the
        # backup took over in 0.7 s instead of 3 x advert_int + skew).
        pids = host.pids("keepalived")
        parents = [p for p in pids if _ppid(p) not in pids]
        for pid in parents:
            signal_pid(pid, signal.SIGSTOP)
        for pid in [p for p in pids if p not in parents] + parents:
            signal_pid(pid, signal.SIGKILL)
    elif fault.kind == "stop-keepalived":
        pids = host.pids("keepalived")
        for pid in pids:  # the parent only: it stops its VRRP child, which says goodbye
            if _ppid(pid) not in pids:
                signal_pid(pid, signal.SIGTERM)
    elif fault.kind == "lose-lb":
        host.lose()
    elif fault.kind == "link-down":
        netns.link(lab.topo, fault.lb, up=False)
    elif fault.kind == "partition":
        peers = ", ".join(lb.ip for lb in lab.topo.lbs if lb.key != fault.lb)
        netns.sh(
            "ip",
            "netns",
            "exec",
            host.ns,
            "nft",
            "-f",
            "-",
            input=(
                "table ip hclab_partition {\n"
                "  chain in { type filter hook input priority 0; "
                f"ip saddr {{ {peers} }} drop; }}\n"
                "  chain out { type filter hook output priority 0; "
                f"ip daddr {{ {peers} }} drop; }}\n"
                "}\n"
            ),
        )


def heal(lab: Lab, fault: Fault) -> str:
    """Undo `fault`; what went wrong doing so ('' if nothing)."""
    host: Any = lab.lbs[fault.lb]
    if fault.kind in ("kill-haproxy", "stop-haproxy"):
        host.start_haproxy()
    elif fault.kind == "crash-haproxy":  # the unit restarts it: check that it did
        process = lab.plan.flavor.haproxy_process
        deadline = time.monotonic() + 30
        while not host.pids(process):
            if time.monotonic() > deadline:
                return f"{process} on {fault.lb} was not restarted by its unit within 30s"
            time.sleep(0.1)
    elif fault.kind == "kill-keepalived" and getattr(host, "supervised", False):
        # A booted host's unit must bring a crashed Keepalived back by itself (Restart=).
        deadline = time.monotonic() + 30
        while not host.pids("keepalived"):
            if time.monotonic() > deadline:
                return f"keepalived on {fault.lb} was not restarted by its unit within 30s"
            time.sleep(0.1)
    elif fault.kind in ("kill-keepalived", "stop-keepalived"):
        host.wait_gone("keepalived")
        host.reap()
        host.start_keepalived()
    elif fault.kind in ("lose-lb", "poweroff"):
        host.boot()
    elif fault.kind == "link-down":
        netns.link(lab.topo, fault.lb, up=True)
    elif fault.kind == "partition":
        netns.sh("ip", "netns", "exec", host.ns, "nft", "delete", "table", "ip", "hclab_partition")
    return ""


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def signal_pid(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
