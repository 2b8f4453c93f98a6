"""The proof: reject specs where a broken node keeps an EIP, warn where the outcome is fragile.

Rules, checked in every scenario of `hacompile.failover.scenarios` and for every VRRP instance
in it, EIP or private VIP ("an EIP" below); a VIP's peers are its other holders only, so a load
balancer that cannot hold it is never the "healthy peer" that makes keeping it an error:
- error: the node holding an EIP has HAProxy down while a fully healthy peer exists; in a tie
  every tied node may hold it (an election favours the higher IP, but a BACKUP never preempts
  a MASTER of equal priority), so a tie between a broken and a healthy node is an error. (A node in
  FAULT never holds an EIP here: Keepalived gives up MASTER on FAULT and announces priority 0,
  so the FAULT half of the rule holds by construction and is covered by the scenario table.)
  Located at the weight of the check that watches HAProxy, which is what has to grow, or at
  `keepalived.checks` when no check watches it;
- warning: the holder has HAProxy down while a peer whose HAProxy runs (but which has another
  check failing) exists; two nodes tie; or the holder wins by exactly 1 point.
Errors and HAProxy warnings are reported once per spec position, ties and 1-point margins once
per spec, each with its first example and a count: one actionable line, not a hundred scenarios.
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Address

from hacompile.errors import Diagnostic, Loc, Severity, format_loc
from hacompile.failover.model import (
    HAPROXY_DOWN,
    Finding,
    NodeState,
    Outcome,
    RegionReport,
    Row,
)
from hacompile.failover.scenarios import describe, haproxy_checks
from hacompile.load import Positions
from hacompile.plan.model import Plan

CHECKS: Loc = ("keepalived", "checks")


class _Group:
    """Observations of one kind at one place, counted while `findings` groups them (a plain
    class: a dataclass would be generated from source at every start-up, ~0.3 ms)."""

    __slots__ = ("count", "first", "need", "severity")

    def __init__(self, severity: Severity, first: str, count: int, need: int) -> None:
        self.severity = severity
        self.first = first
        self.count = count
        self.need = need  # haproxy_down_keeps: how many more points the weight needs


def _weight_loc(plan: Plan, name: str) -> Loc:
    index = next(i for i, c in enumerate(plan.keepalived.checks) if c.name == name)
    return (*CHECKS, index, "weight")


def _best(nodes: list[NodeState]) -> NodeState:
    return max(nodes, key=lambda n: (n.priority, int(IPv4Address(n.ip))))


def _where(region: str, row: Row, outcome: Outcome) -> str:
    what = outcome.eip if outcome.strategy == "eip" else f"VIP {outcome.eip}"
    return f"in {region}, {describe(row.scenario)}, {what}"


def _fragile_loc(plan: Plan, row: Row, outcome: Outcome) -> Loc:
    """Blame the weight of a failing check if there is one, else the priority ladder."""
    involved = {outcome.holder, outcome.runner_up}
    for failure in row.scenario.failures:
        if failure.lb in involved and failure.check and failure.check != HAPROXY_DOWN:
            return _weight_loc(plan, failure.check)
    if outcome.owner in involved:
        return ("keepalived", "priority", "master")
    return ("keepalived", "priority", "step")


def _observations(
    plan: Plan, regions: tuple[RegionReport, ...]
) -> Iterator[tuple[str, Loc, Severity, str, int, int]]:
    """Each observation once per analysed region, with how many regions share its rows: the
    first region of a layout is also the first to show any of its observations, so the example
    text is the one a region-by-region pass would give, and the counts are the same."""
    watchers = haproxy_checks(plan)
    haproxy_loc = _weight_loc(plan, watchers[0].name) if watchers else CHECKS
    shared: dict[str, int] = {}
    for report in regions:
        if report.same_as:
            shared[report.same_as] = shared.get(report.same_as, 0) + 1
    for report in regions:
        if report.same_as:
            continue
        times = 1 + shared.get(report.region, 0)
        for row in report.rows:
            for out in row.outcomes:
                if not out.holder:
                    continue
                holder = out.node(out.holder)
                # In a tie either node may hold the EIP (an election favours the higher IP, a
                # running MASTER keeps it), so every tied node counts as a possible holder.
                possible = [
                    n for n in out.nodes if n.state == "up" and n.priority == holder.priority
                ]
                broken = [n for n in possible if not n.haproxy_up]
                if not broken and not out.tie and out.margin != 1:
                    continue  # nothing to say: skip formatting the scenario (the common case)
                where = _where(report.region, row, out)
                if broken:
                    keeper = _best(broken)
                    others = [n for n in out.nodes if n.state == "up" and n.lb != keeper.lb]
                    healthy = [n for n in others if n.healthy]
                    serving = [n for n in others if n.haproxy_up]
                    tied = " (a tie: history decides)" if len(possible) > 1 else ""
                    if healthy:
                        peer = _best(healthy)
                        yield (
                            "haproxy_down_keeps",
                            haproxy_loc,
                            Severity.ERROR,
                            f"{where}: {keeper.lb} keeps it with HAProxy down at priority "
                            f"{keeper.priority}{tied} although {peer.lb} is healthy at "
                            f"{peer.priority}",
                            keeper.priority - peer.priority + 1,
                            times,
                        )
                    elif serving:
                        peer = _best(serving)
                        yield (
                            "degraded_keeps",
                            haproxy_loc,
                            Severity.WARNING,
                            f"{where}: {keeper.lb} keeps it with HAProxy down at priority "
                            f"{keeper.priority}{tied} although HAProxy runs on {peer.lb} "
                            f"(priority {peer.priority})",
                            0,
                            times,
                        )
                if out.tie:
                    runner = out.node(out.runner_up)
                    yield (
                        "tie",
                        _fragile_loc(plan, row, out),
                        Severity.WARNING,
                        f"{where}: {holder.lb} and {runner.lb} tie at priority "
                        f"{holder.priority}; an election goes to the higher IP "
                        f"({holder.ip}), but a BACKUP never preempts an equal MASTER, so "
                        "the holder depends on history",
                        0,
                        times,
                    )
                elif out.margin == 1:
                    runner = out.node(out.runner_up)
                    yield (
                        "margin",
                        _fragile_loc(plan, row, out),
                        Severity.WARNING,
                        f"{where}: {holder.lb} holds it at priority {holder.priority} "
                        f"against {runner.lb}'s {runner.priority}, a 1-point margin",
                        0,
                        times,
                    )


def findings(plan: Plan, regions: tuple[RegionReport, ...]) -> tuple[Finding, ...]:
    groups: dict[tuple[str, Loc], _Group] = {}
    for kind, loc, severity, text, need, times in _observations(plan, regions):
        key = (kind, loc)
        if kind in ("tie", "margin"):
            key = next((k for k in groups if k[0] == kind), key)
        group = groups.get(key)
        if group is None:
            groups[key] = _Group(severity, text, times, need)
        else:
            group.count += times
            group.need = max(group.need, need)
    out = []
    for (kind, loc), group in groups.items():
        more = f" (and {group.count - 1} more scenario(s))" if group.count > 1 else ""
        out.append(
            Finding(loc, group.severity, kind, group.first + more + _advice(plan, kind, group.need))
        )
    return tuple(out)


def _advice(plan: Plan, kind: str, need: int) -> str:
    watchers = haproxy_checks(plan)
    process = plan.flavor.haproxy_process
    if kind == "haproxy_down_keeps" and not watchers:
        return (
            f"; no check watches the HAProxy process `{process}`: add "
            f"`{{name: chk_haproxy, process: {process}, weight: N}}` with N >= {need}"
        )
    if kind == "haproxy_down_keeps":
        check = watchers[0]
        size = abs(check.weight) + need
        wanted = f"-{size}" if check.weight < 0 else str(size)
        if check.weight == 0:
            return ""
        return (
            f"; {check.name}'s weight {check.weight} cannot outweigh the priority gap: "
            f"use {wanted} or more (or narrow the gap between priorities)"
        )
    if kind == "degraded_keeps":
        return "; a larger HAProxy check weight moves it to the node that can serve"
    if kind == "margin":
        return ": one more point of weight anywhere decides it; widen the margin"
    return ""


def located(found: tuple[Finding, ...], positions: Positions, file: str) -> tuple[Diagnostic, ...]:
    """The findings as diagnostics at their spec positions (the key, or the nearest parent)."""
    out = []
    for finding in found:
        line, col = positions.locate(_anchor(finding.loc, positions))
        out.append(
            Diagnostic(line, col, finding.severity, format_loc(finding.loc), finding.message, file)
        )
    return tuple(sorted(out))


def _anchor(loc: Loc, positions: Positions) -> Loc:
    """A check's weight that the spec does not spell out (the default checks) is located at
    the priority it has to outweigh, the other number the user can change."""
    if len(loc) != 4 or loc[:2] != CHECKS or loc in positions.keys:
        return loc
    for alternative in (("keepalived", "priority", "master"), ("keepalived", "priority")):
        if alternative in positions.keys:
            return alternative
    return loc
