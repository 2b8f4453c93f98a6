"""The report as table cells and plain data, shared by `hacompile explain` and the README.

One cell per EIP and scenario: the holder, then every node's effective priority in LB order
(``F`` for FAULT, ``-`` for down), e.g. ``lb2 · 103/106``; ``(tie)`` marks a holder decided by
IP, ``none`` an EIP no node can hold. Rows are in enumeration order: healthy, single failures,
nodes down, pairs, every HAProxy down.
"""

from __future__ import annotations

import textwrap
from typing import Any

from hacompile.failover.model import Outcome, RegionReport, Report, Row, Timing
from hacompile.failover.scenarios import describe
from hacompile.output import Style, table
from hacompile.record import Record

BASIC = ("healthy", "single", "node_down", "all_haproxy_down")


class TableRow(Record):
    scenario: str
    kind: str
    cells: tuple[str, ...]
    moved: bool  # some EIP is not on its owner


def priorities(outcome: Outcome) -> str:
    shown = {"FAULT": "F", "down": "-"}
    return "/".join(shown.get(n.state, str(n.priority)) for n in outcome.nodes)


def cell(outcome: Outcome) -> str:
    holder = outcome.holder or "none"
    tie = " (tie)" if outcome.tie else ""
    return f"{holder}{tie} · {priorities(outcome)}"


def table_rows(region: RegionReport, kinds: tuple[str, ...] | None = None) -> tuple[TableRow, ...]:
    return tuple(
        TableRow(
            describe(r.scenario),
            r.scenario.kind,
            tuple(cell(o) for o in r.outcomes),
            any(o.moved for o in r.outcomes),
        )
        for r in region.rows
        if kinds is None or r.scenario.kind in kinds
    )


def headers(region: RegionReport) -> tuple[str, ...]:
    owners = {
        r.outcomes[i].eip: r.outcomes[i].owner
        for r in region.rows[:1]
        for i in range(len(r.outcomes))
    }
    return ("scenario", *(f"{eip} (owner {owners[eip]})" for eip in region.eips))


def _seconds(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + " s"


def timing_label(t: Timing) -> str:
    if t.event == "node_lost":
        return "a load balancer is lost"
    if t.event == "fault_check":
        return f"{t.check} fails (FAULT)"
    return f"{t.check} fails"


def timing_rows(report: Report) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (timing_label(t), _seconds(t.detect), _seconds(t.decide), _seconds(t.total), t.formula)
        for t in report.timings
    )


TIMING_HEADERS = (
    "failure",
    "detected within",
    "new MASTER within",
    "EIP moved within",
    "how (worst case)",
)


def _row_data(row: Row) -> dict[str, Any]:
    return {
        "scenario": describe(row.scenario),
        "kind": row.scenario.kind,
        "failures": [
            {"lb": f.lb, "check": f.check or None, "node_down": f.node_down}
            for f in row.scenario.failures
        ],
        "eips": {
            o.eip: {
                "owner": o.owner,
                "holder": o.holder or None,
                "moved": o.moved,
                "tie": o.tie,
                "margin": o.margin,
                "nodes": {
                    n.lb: {"state": n.state, "priority": n.priority, "haproxy_up": n.haproxy_up}
                    for n in o.nodes
                },
            }
            for o in row.outcomes
        },
    }


def data(report: Report) -> dict[str, Any]:
    """The whole report as JSON-able data (for --json)."""
    return {
        "regions": [
            {
                "region": r.region,
                "lbs": list(r.lbs),
                "eips": list(r.eips),
                "scenarios": [_row_data(row) for row in r.rows],
            }
            for r in report.regions
        ],
        "timing": [
            {
                "event": t.event,
                "check": t.check or None,
                "detect_s": t.detect,
                "takeover_s": t.takeover,
                "new_master_s": t.decide,
                "eip_claim_budget_s": t.claim_budget,
                "eip_claim_attempts": t.claim_attempts,
                "eip_moved_s": t.total,
                "formula": t.formula,
            }
            for t in report.timings
        ],
        "failback": list(report.failback),
        "haproxy_checks": list(report.haproxy_checks),
        "haproxy_process": report.haproxy_process,
        "tie_rule": report.tie_rule,
        **({"dns": report.dns} if report.dns else {}),
    }


class RegionView(Record):
    region: str  # the regions this table applies to, comma-separated
    lbs: str  # "lb1/lb2": the order of the priorities in each cell
    headers: tuple[str, ...]
    basic: tuple[TableRow, ...]  # healthy, single failures, nodes down, every HAProxy down
    pairs: tuple[TableRow, ...]


class View(Record):
    """What the bundle README shows of the report, every value computed here."""

    regions: tuple[RegionView, ...]
    timing_headers: tuple[str, ...]
    timing_rows: tuple[tuple[str, ...], ...]
    failback: tuple[str, ...]
    tie_rule: str
    claim_attempts: int
    claim_budget: int
    dns: str = ""


def _layouts(report: Report) -> dict[str, list[str]]:
    """Each analysed region -> every region of its layout (itself first, in spec order)."""
    names: dict[str, list[str]] = {}
    for r in report.regions:
        names.setdefault(r.same_as or r.region, []).append(r.region)
    return names


def view(report: Report) -> View:
    """One table per distinct layout, titled with every region it applies to: regions with
    the same layout have identical tables (a 50-region spec would repeat one 50 times)."""
    names = _layouts(report)
    regions = tuple(
        RegionView(
            ", ".join(names[r.region]),
            "/".join(r.lbs),
            headers(r),
            table_rows(r, BASIC),
            table_rows(r, ("pair",)),
        )
        for r in report.regions
        if not r.same_as
    )
    first = report.timings[0]
    return View(
        regions,
        TIMING_HEADERS,
        timing_rows(report),
        report.failback,
        report.tie_rule,
        first.claim_attempts,
        first.claim_budget,
        report.dns,
    )


WIDTH = 100  # columns `explain` fits its text in (the scenario names aside)


def _width(block: str) -> int:
    return max(len(line) for line in block.splitlines())


def _bullets(lines: tuple[str, ...]) -> str:
    return "\n".join(
        textwrap.fill(
            line,
            WIDTH,
            initial_indent="- ",
            subsequent_indent="  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        for line in lines
    )


def _region_text(region: RegionReport, names: str, style: Style) -> str:
    """One table with a column per EIP where it fits in WIDTH columns (2 load balancers);
    else one table per EIP, its holder and every node's priority in separate columns (at 8
    load balancers the single table is over 300 columns). `names`: every region of this
    layout, which share the table."""
    title = style.paint(f"{names}: who holds each EIP", bold=True)
    legend = f"priorities {'/'.join(region.lbs)}; F = FAULT, - = down"
    rows = [(r.scenario, *r.cells) for r in table_rows(region)]
    if _width(table(headers(region), rows, Style(False))) <= WIDTH:
        return f"{title}  ({legend})\n" + table(headers(region), rows, style) + "\n"
    parts = [f"{title}, one table per EIP\n({legend})\n"]
    for e, label in enumerate(headers(region)[1:]):
        per_eip = [
            (describe(r.scenario), o.holder + (" (tie)" if o.tie else "") or "none", priorities(o))
            for r in region.rows
            for o in (r.outcomes[e],)
        ]
        parts.append(
            style.paint(label, bold=True)
            + "\n"
            + table(("scenario", "holder", "priorities"), per_eip, style)
            + "\n"
        )
    return "\n".join(parts)


def text(report: Report, style: Style) -> str:
    """`hacompile explain` for a terminal or a pipe: the tables, then timing and failback,
    within WIDTH columns: the timing formulas are listed under their table."""
    names = _layouts(report)
    parts = [
        _region_text(region, ", ".join(names[region.region]), style)
        for region in report.regions
        if not region.same_as  # the same layout: the same table, said once
    ]
    first = report.timings[0]
    rows = timing_rows(report)
    parts.append(
        style.paint("Worst-case failover time", bold=True)
        + f" (EIP claim: {first.claim_attempts} attempts within {first.claim_budget} s)"
        + "\n"
        + table(TIMING_HEADERS[:-1], [r[:-1] for r in rows], style)
        + "\n"
        + f"{TIMING_HEADERS[-1]}:\n"
        + _bullets(tuple(f"{r[0]}: {r[-1]}" for r in rows))
        + "\n"
    )
    if report.dns:
        parts.append(style.paint("DNS", bold=True) + "\n" + _bullets((report.dns,)))
    parts.append(
        style.paint("Failback", bold=True) + "\n" + _bullets((*report.failback, report.tie_rule))
    )
    return "\n".join(parts)
