"""Turn scenario results into a timeline per scenario, a summary table and aggregate figures.

Why separate: the CLI prints these, the benchmark aggregates them, the tests assert on the raw
results; none of them should re-derive a number.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any


def timeline(result: dict[str, Any]) -> list[str]:
    lines = [f"{result['scenario']}: {result['description']}"]
    for phase in ("inject", "heal"):
        data = result.get(phase)
        if not data:
            continue
        lines.append(f"  {phase}:")
        events: list[tuple[float, str]] = []
        for eip, moves in data["moves"].items():
            for t, lb in moves:
                events.append((t, f"{eip} -> {lb}"))
        for eip, down in data["downtime_s"].items():
            if down:
                again = data["serving_again_s"][eip]
                events.append(
                    (
                        again,
                        f"{eip} serving again (client saw {down:.2f}s without "
                        f"answers, {data['failed_requests'][eip]} failed)",
                    )
                )
        events.append((data["steady_after_s"], "steady"))
        for t, text in sorted(events):
            lines.append(f"    +{t:7.2f}s  {text}")
        lines.append(
            f"    AssociateAddress calls: {data['associate_calls']} "
            f"({data['associate_failed']} failed by injection)"
        )
        if "vip_calls" in data:
            lines.append(
                f"    VIP calls (routes, private IPs): {data['vip_calls']} "
                f"({data['vip_failed']} failed by injection)"
            )
    owners = sorted(result.get("final_owners", {}).items())
    lines.append("  final owners: " + ", ".join(f"{e}={lb}" for e, lb in owners))
    lines.append("  PASS" if result["passed"] else "  FAIL: " + "; ".join(result["problems"]))
    return lines


def _first(values: dict[str, float]) -> float | None:
    present = [v for v in values.values() if v]
    return max(present) if present else None


def headline(result: dict[str, Any]) -> dict[str, float | None]:
    """The per-scenario figures: EIP move, client downtime, failback move and downtime (s).

    Per phase the worst EIP counts (the one the fault hit)."""
    inj, heal = result.get("inject") or {}, result.get("heal") or {}
    return {
        "eip_moved_s": _first(inj.get("eip_moved_s", {})),
        "downtime_s": _first(inj.get("downtime_s", {})),
        "serving_again_s": _first(inj.get("serving_again_s", {})),
        "failback_s": _first(heal.get("eip_moved_s", {})),
        "failback_downtime_s": _first(heal.get("downtime_s", {})),
        "associate_calls": float(inj.get("associate_calls", 0) + heal.get("associate_calls", 0)),
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(results: Iterable[dict[str, Any]]) -> list[str]:
    head = (
        f"{'scenario':<20} {'EIP moved':>9} {'downtime':>9} {'failback':>9} "
        f"{'fb down':>8} {'assoc':>5}  result"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        h = headline(r)
        lines.append(
            f"{r['scenario']:<20} {_fmt(h['eip_moved_s']):>9} {_fmt(h['downtime_s']):>9} "
            f"{_fmt(h['failback_s']):>9} {_fmt(h['failback_downtime_s']):>8} "
            f"{int(h['associate_calls'] or 0):>5}  "
            f"{'PASS' if r['passed'] else 'FAIL'}"
        )
    return lines


def aggregate(results: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """scenario -> figure -> {min, median, max, n} over repetitions."""
    by: dict[str, dict[str, list[float]]] = {}
    for r in results:
        for key, value in headline(r).items():
            if value is not None:
                by.setdefault(r["scenario"], {}).setdefault(key, []).append(value)
    return {
        s: {
            k: {"min": min(v), "median": statistics.median(v), "max": max(v), "n": len(v)}
            for k, v in figs.items()
        }
        for s, figs in by.items()
    }


def procedure_lines(procedures: Iterable[dict[str, Any]]) -> list[str]:
    """One block per day-2 procedure (hacompile.lab.booted.day2): its verdict, the client's
    requests and failures per EIP (the figure the procedure exists for), each EIP's moves."""
    lines: list[str] = []
    for p in procedures:
        verdict = "passed" if p["passed"] else "FAILED"
        lines.append(f"procedure {p['scenario']}: {verdict} ({p.get('seconds', 0):.1f}s)")
        for eip, sent in sorted(p.get("requests", {}).items()):
            failed = p["failed_requests"][eip]
            moves = ", ".join(f"+{t:.1f}s -> {lb}" for t, lb in p["moves"][eip]) or "no move"
            lines.append(f"  {eip}: {failed} failed of {sent} requests; {moves}")
        lines.extend(f"  problem: {text}" for text in p["problems"])
    return lines
