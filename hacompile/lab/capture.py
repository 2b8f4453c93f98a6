"""What a scenario's results carry for `hacompile lab --report`: the client's samples, the
VRRP state changes and the claim calls, each timed from its phase's start and bounded.

Why bounded: a phase of the matrix can last a minute at 20 requests a second per address; the
results JSON (and the page drawn from it) must stay small whatever the run, so the samples are
thinned evenly and every failure is kept (the failures are what the page exists to show).
Why a poller for VRRP: the notify script only writes the current state into a file; polling
it every POLL_S seconds turns that into transitions (a flap shorter than that can be missed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from hacompile.lab.observe import Observer, Probe, outage
from hacompile.lab.router import VIP_ACTIONS

if TYPE_CHECKING:
    from hacompile.lab.setup import Lab

MAX_SAMPLES = 800  # per address and phase
MAX_EVENTS = 300  # VRRP changes or claim calls per phase
POLL_S = 0.1
CLAIM_ACTIONS = ("AssociateAddress", "DisassociateAddress", *VIP_ACTIONS)


def samples(rows: Sequence[Probe], start: float, cap: int = MAX_SAMPLES) -> list[list[float]]:
    """[[seconds from `start`, 1 ok / 0 failed], ...]: all of them up to `cap`, else every
    failure (up to `cap`) and evenly spaced successes filling the rest."""
    keep = list(rows)
    if len(keep) > cap:
        failed = [p for p in keep if not p.ok][:cap]
        ok = [p for p in keep if p.ok]
        room = cap - len(failed)
        step = len(ok) / room if room else 0.0
        picked = [ok[int(i * step)] for i in range(room)] if room else []
        keep = sorted([*failed, *picked], key=lambda p: p.t)
    return [[round(p.t - start, 3), 1 if p.ok else 0] for p in keep]


def claims(calls: Iterable[dict[str, Any]], start: float) -> list[dict[str, Any]]:
    """The calls that move an address (EIP associations, VIP routes and private IPs), timed
    from `start`, with the LB (by its ENI) and the EIP (by its allocation) they name."""
    out = [
        {
            "t": round(float(c.get("t", 0.0)) - start, 3),
            "action": c["action"],
            "lb": c.get("lb", ""),
            "eip": c.get("eip", "") or c.get("vip", ""),
            "failed": c["failed"],
        }
        for c in calls
        if c["action"] in CLAIM_ACTIONS
    ]
    return out[:MAX_EVENTS]


class StateLog:
    """Polls every LB's VRRP state per address in a thread: [(epoch t, lb, address, state)]
    for each change ('' when the host cannot be read: stopped or powered off)."""

    def __init__(self, lbs: Sequence[str], keys: Sequence[str], state: Callable[[str, str], str]):
        self.lbs, self.keys, self.state = list(lbs), list(keys), state
        self.changes: list[tuple[float, str, str, str]] = []
        self._last: dict[tuple[str, str], str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _poll(self) -> None:
        now = time.time()
        for lb in self.lbs:
            for key in self.keys:
                value = self.state(lb, key)
                if self._last.get((lb, key)) != value:
                    self._last[(lb, key)] = value
                    self.changes.append((now, lb, key, value))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._poll()
            self._stop.wait(POLL_S)

    def __enter__(self) -> StateLog:
        self._poll()  # the states before the fault, synchronously
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def between(self, start: float, end: float) -> list[list[Any]]:
        """[[seconds from `start`, lb, address, state], ...]; the first entry per LB and
        address is its state at `start` (time 0), so the page can draw it from the left."""
        before: dict[tuple[str, str], str] = {}
        inside: list[list[Any]] = []
        for t, lb, key, value in list(self.changes):
            if t < start:
                before[(lb, key)] = value
            elif t <= end:
                inside.append([round(t - start, 3), lb, key, value])
        first = [[0.0, lb, key, v] for (lb, key), v in sorted(before.items())]
        return (first + inside)[:MAX_EVENTS]


def measure(
    lab: Lab, obs: Observer, start: float, end: float, calls_from: int, log: StateLog | None = None
) -> dict[str, Any]:
    """One phase's figures (`start`..`end`, epoch s) and, for the report, its client samples,
    claim calls and VRRP changes, each timed from `start`."""
    keys = [e.key for e in lab.topo.eips] + [v.key for v in lab.topo.vips]
    moves: dict[str, list[list[Any]]] = {key: [] for key in keys}
    for ev in obs.moves(start, end):
        moves[ev["eip"]].append([round(float(ev["t"]) - start, 3), ev["lb"] or "none"])
    out: dict[str, Any] = {
        "steady_after_s": round(end - start, 3),
        "moves": moves,
        "eip_moved_s": {e: m[0][0] for e, m in moves.items() if m},
    }
    rows = {key: obs.probe_rows(key, start - 0.3, end) for key in keys}
    outages = {key: outage(r, start) for key, r in rows.items()}
    out["downtime_s"] = {e: o.downtime for e, o in outages.items()}
    out["longest_gap_s"] = {e: o.longest for e, o in outages.items()}
    out["serving_again_s"] = {e: o.serving_again for e, o in outages.items()}
    out["failed_requests"] = {e: o.failed for e, o in outages.items()}
    _, calls = obs.calls(calls_from)
    assoc = [c for c in calls if c["action"] == "AssociateAddress"]
    out["associate_calls"] = len(assoc)
    out["associate_failed"] = sum(1 for c in assoc if c["failed"])
    out["api_calls"] = len(calls)
    if lab.topo.vips:  # the calls that move private VIPs, each with its ENI and address
        vip = [c for c in calls if c["action"] in VIP_ACTIONS]
        out["vip_calls"] = len(vip)
        out["vip_failed"] = sum(1 for c in vip if c["failed"])
        out["vip_requests"] = [{k: c[k] for k in ("action", "eni", "vip", "failed")} for c in vip]
    out["samples"] = {key: samples(r, start) for key, r in rows.items()}
    out["claims"] = claims(calls, start)
    if log is not None:
        out["vrrp"] = log.between(start, end)
    return out
