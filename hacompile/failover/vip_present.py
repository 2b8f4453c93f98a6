"""The private VIPs' part of `hacompile.failover.present`: their timing columns and notes.

Split out so the presenter stays readable; every value is the report's (`Report.vip_timings`,
built by `hacompile.failover.timing.vip_timings`), grouped by strategy: a VIP's bound depends
only on its strategy (the VRRP part is the plan-wide worst case), so one column per strategy
present says everything, at most two, whatever the number of VIPs.
"""

from __future__ import annotations

from hacompile.failover.model import Report
from hacompile.failover.timing import PROPAGATION_WHAT


def seconds(value: float) -> str:
    """``3.61 s``, ``2 s``: two decimals at most, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".") + " s"


def _strategies(report: Report) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.strategy for t in report.vip_timings))


def vip_timing_columns(report: Report) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """A column per VIP strategy present, ``route VIP moved within``, with a value per row of
    `timing_rows`: the worst over that strategy's VIPs for the same failure."""
    strategies = _strategies(report)
    rows = tuple(
        tuple(
            seconds(
                max(
                    v.total
                    for v in report.vip_timings
                    if v.strategy == strategy and (v.event, v.check) == (t.event, t.check)
                )
            )
            for strategy in strategies
        )
        for t in report.timings
    )
    return tuple(f"{s} VIP moved within" for s in strategies), rows


def vip_notes(report: Report) -> tuple[str, ...]:
    """A sentence per VIP strategy present: which VIPs, and what their bound adds and why."""
    regions = {t.region for t in report.vip_timings}
    out = []
    for strategy in _strategies(report):
        named = dict.fromkeys(
            t.instance if len(regions) == 1 else f"{t.region} {t.instance}"
            for t in report.vip_timings
            if t.strategy == strategy
        )
        wait = next(t.propagation for t in report.vip_timings if t.strategy == strategy)
        out.append(
            f"Private VIPs moved by {strategy} ({', '.join(named)}): keepalived adds the address "
            "to the new MASTER, the claim changes EC2 within the same budget, then "
            f"{seconds(wait)} for {PROPAGATION_WHAT[strategy]}. AWS documents no time for "
            "that, so it is a conservative constant (hacompile docs/failover.md)."
        )
    return tuple(out)
