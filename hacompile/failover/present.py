"""The report as table cells and plain data, shared by `hacompile explain` and the README.

One cell per EIP and scenario: the holder, then every node's effective priority in LB order
(``F`` for FAULT, ``-`` for down), e.g. ``lb2 · 103/106``; ``(tie)`` marks a holder decided by
IP, ``none`` an EIP no node can hold. Rows are in enumeration order: healthy, single failures,
nodes down, pairs, every HAProxy down. A private VIP has a column after the EIPs, named by its
strategy and owner; its cells list its holders' priorities only, which its header names when
they are not every load balancer. Without VIPs every text is what it was before them.
"""

from __future__ import annotations

import textwrap
from typing import Any

from hacompile.failover.model import Outcome, RegionReport, Report, Row, Timing
from hacompile.failover.scenarios import describe
from hacompile.failover.vip_present import seconds as _seconds
from hacompile.failover.vip_present import vip_notes, vip_timing_columns
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


def label(outcome: Outcome, lbs: tuple[str, ...]) -> str:
    """``eip1 (owner lb1)``; a VIP: ``db (secondary_ip, owner lb1, held by lb1/lb3)``, the
    holders named when they are not every load balancer (its cells list theirs only)."""
    if outcome.strategy == "eip":
        return f"{outcome.eip} (owner {outcome.owner})"
    held = [n.lb for n in outcome.nodes]
    by = "" if len(held) == len(lbs) else f", held by {'/'.join(held)}"
    return f"{outcome.eip} ({outcome.strategy}, owner {outcome.owner}{by})"


def headers(region: RegionReport) -> tuple[str, ...]:
    return ("scenario", *(label(o, region.lbs) for r in region.rows[:1] for o in r.outcomes))


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


def _outcome_data(o: Outcome) -> dict[str, Any]:
    return {
        **({} if o.strategy == "eip" else {"strategy": o.strategy}),
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


def _row_data(row: Row) -> dict[str, Any]:
    """One scenario; its VIPs (holders only in `nodes`) under "vips", only when it has any."""
    vips = {o.eip: _outcome_data(o) for o in row.outcomes if o.strategy != "eip"}
    return {
        "scenario": describe(row.scenario),
        "kind": row.scenario.kind,
        "failures": [
            {"lb": f.lb, "check": f.check or None, "node_down": f.node_down}
            for f in row.scenario.failures
        ],
        "eips": {o.eip: _outcome_data(o) for o in row.outcomes if o.strategy == "eip"},
        **({"vips": vips} if vips else {}),
    }


def _timing_data(t: Timing) -> dict[str, Any]:
    vip = {"region": t.region, "vip": t.instance, "strategy": t.strategy}
    return {
        **(vip if t.instance else {}),
        "event": t.event,
        "check": t.check or None,
        "detect_s": t.detect,
        "takeover_s": t.takeover,
        "new_master_s": t.decide,
        "eip_claim_budget_s": t.claim_budget,
        "eip_claim_attempts": t.claim_attempts,
        **({"propagation_s": t.propagation, "vip_moved_s": t.total} if t.instance else {}),
        **({} if t.instance else {"eip_moved_s": t.total}),
        "formula": t.formula,
    }


def data(report: Report) -> dict[str, Any]:
    """The whole report as JSON-able data (for --json)."""
    return {
        "regions": [
            {
                "region": r.region,
                "lbs": list(r.lbs),
                "eips": list(r.eips),
                **({"vips": list(r.vips)} if r.vips else {}),
                "scenarios": [_row_data(row) for row in r.rows],
            }
            for r in report.regions
        ],
        "timing": [_timing_data(t) for t in report.timings],
        **(
            {"vip_timing": [_timing_data(t) for t in report.vip_timings]}
            if report.vip_timings
            else {}
        ),
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
    headers_: tuple[str, ...] = TIMING_HEADERS
    rows = timing_rows(report)
    if report.vip_timings:  # a column per VIP strategy, before the formula
        extra, values = vip_timing_columns(report)
        headers_ = (*TIMING_HEADERS[:-1], *extra, TIMING_HEADERS[-1])
        rows = tuple((*r[:-1], *v, r[-1]) for r, v in zip(rows, values, strict=True))
    return View(
        regions,
        headers_,
        rows,
        (*vip_notes(report), *report.failback),  # the README lists both under its timing
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
    what = "EIP and VIP" if region.vips else "EIP"
    title = style.paint(f"{names}: who holds each {what}", bold=True)
    legend = f"priorities {'/'.join(region.lbs)}; F = FAULT, - = down"
    rows = [(r.scenario, *r.cells) for r in table_rows(region)]
    if _width(table(headers(region), rows, Style(False))) <= WIDTH:
        return f"{title}  ({legend})\n" + table(headers(region), rows, style) + "\n"
    parts = [f"{title}, one table per {what}\n({legend})\n"]
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
    if report.vip_timings:
        extra, values = vip_timing_columns(report)
        parts.append(
            style.paint("Private VIPs", bold=True)
            + f" (new MASTER, then the claim within {first.claim_budget} s, then propagation)\n"
            + table(
                ("failure", *extra), [(r[0], *v) for r, v in zip(rows, values, strict=True)], style
            )
            + "\n"
            + _bullets(vip_notes(report))
            + "\n"
        )
    if report.dns:
        parts.append(style.paint("DNS", bold=True) + "\n" + _bullets((report.dns,)))
    parts.append(
        style.paint("Failback", bold=True) + "\n" + _bullets((*report.failback, report.tie_rule))
    )
    return "\n".join(parts)
