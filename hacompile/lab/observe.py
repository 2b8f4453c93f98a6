"""What the lab can see: EIP and VIP owners (from the cloud host), VRRP states, the clients'
results (the external client's through the EIPs, the VPC client's through the VIPs).

Why three sources: the edge mapping is what users reach, the VRRP state files are what the
bundle's notify script recorded, and the client's stream is what users felt. A steady state
needs all three to agree for a while.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hacompile.lab.netns import LabError


def cloud_call(path: Path, request: Mapping[str, Any], timeout: float = 10) -> Any:
    """One JSON request to the cloud host's control socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError as exc:
            raise LabError(f"cloud host control socket: {exc}") from exc
    answer = json.loads(data)
    if isinstance(answer, dict) and "error" in answer:
        raise LabError(f"cloud host: {answer['error']}")
    return answer


@dataclass(frozen=True)
class Probe:
    t: float
    ok: bool


@dataclass
class JsonlTail:
    """Reads a growing JSON-lines file incrementally."""

    path: Path
    offset: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)

    def poll(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return self.rows
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            if line.strip():
                self.rows.append(json.loads(line))
        return self.rows


@dataclass
class Observer:
    events: JsonlTail
    probes: JsonlTail
    control: Path
    states: Callable[[str, str], str]  # (lb, eip) -> VRRP state recorded by the notify script
    vip_probes: JsonlTail | None = None  # the VPC client's stream (private VIPs), if any

    def mapping(self) -> dict[str, str]:
        return dict(cloud_call(self.control, {"op": "state"})["mapping"])

    def calls(self, since: int = 0) -> tuple[int, list[dict[str, Any]]]:
        answer = cloud_call(self.control, {"op": "calls", "since": since})
        return int(answer["total"]), list(answer["calls"])

    def probe_rows(self, eip: str, start: float, end: float) -> list[Probe]:
        both = self.probes.poll() + (self.vip_probes.poll() if self.vip_probes else [])
        rows = [
            Probe(float(r["t"]), bool(r["ok"]))
            for r in both
            if r["eip"] == eip and start <= float(r["t"]) <= end
        ]
        return sorted(rows, key=lambda p: p.t)

    def serving(self, eip: str, now: float, window: float = 0.6) -> bool:
        """Every request sent in the last `window` s (but answered by now) succeeded."""
        rows = self.probe_rows(eip, now - window - 1.0, now)
        recent = [p for p in rows if p.t >= now - window - 1.0]
        return len(recent) >= 3 and all(p.ok for p in recent[-6:])

    def moves(self, start: float, end: float) -> list[dict[str, Any]]:
        return [e for e in self.events.poll() if start <= float(e["t"]) <= end]


@dataclass(frozen=True)
class Outage:
    """Client-visible effect on one EIP within a phase."""

    failed: int  # failed requests
    downtime: float  # total time between successes that had failures in between
    longest: float  # the longest such gap
    serving_again: float  # phase start -> first success after the last failure (0: no outage)


def outage(rows: list[Probe], phase_start: float) -> Outage:
    """Gaps in successful answers: for each pair of consecutive successes with failed requests
    between them, the time between the two successes (so a brief blip counts as brief and an
    EIP answering intermittently is not counted as one long outage)."""
    failures = [p for p in rows if not p.ok]
    if not failures:
        return Outage(0, 0.0, 0.0, 0.0)
    gaps: list[float] = []
    last_ok: float | None = None
    failed_since = False
    for p in rows:
        if not p.ok:
            failed_since = True
            continue
        if failed_since:
            gaps.append(p.t - (last_ok if last_ok is not None else phase_start))
        last_ok, failed_since = p.t, False
    if failed_since:  # still failing at the end of the phase
        gaps.append(rows[-1].t - (last_ok if last_ok is not None else phase_start))
    after = [p.t for p in rows if p.ok and p.t > failures[-1].t]
    again = (after[0] if after else rows[-1].t) - phase_start
    return Outage(len(failures), round(sum(gaps), 3), round(max(gaps), 3), round(again, 3))
