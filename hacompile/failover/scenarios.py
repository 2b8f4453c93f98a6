"""Enumerate the failures that matter and decide, per VRRP instance, who holds the EIP.

Keepalived's arithmetic, as used here:
- a check with a positive weight adds it while the check passes; a negative weight subtracts
  its size while the check fails; a failing weight-0 check puts the node in FAULT;
- the effective priority is clamped to 1..254 (255 is reserved for an address owner);
- the EIP goes to the highest effective priority among nodes that are up and not in FAULT;
  equal priorities are decided by the higher primary IP (see `hacompile.failover.TIE_RULE`).

The states enumerated per region: everything healthy, each check failing on each node, each
node down, each pair of those failures, and every HAProxy down at once. Pairs are what catch
weights that only work while the peer is perfect.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from itertools import combinations

from hacompile.failover.model import (
    HAPROXY_DOWN,
    NODE_DOWN,
    Failure,
    NodeState,
    Outcome,
    RegionReport,
    Row,
    Scenario,
)
from hacompile.plan.model import Check, Plan, Region

MIN_PRIORITY = 1
MAX_PRIORITY = 254


def haproxy_checks(plan: Plan) -> tuple[Check, ...]:
    """The checks that fail exactly when HAProxy is down: process checks on its process."""
    return tuple(c for c in plan.keepalived.checks
                 if c.kind == "process" and c.process == plan.flavor.haproxy_process)


def scenarios(plan: Plan, region: Region) -> tuple[Scenario, ...]:
    lbs = [lb.key for lb in region.load_balancers]
    watchers = haproxy_checks(plan)
    check_names = [c.name for c in plan.keepalived.checks]
    if not watchers:  # HAProxy can still die; nothing notices
        check_names.append(HAPROXY_DOWN)
    singles = [Failure(lb, name) for lb in lbs for name in check_names]
    downs = [Failure(lb, NODE_DOWN) for lb in lbs]
    out = [Scenario("healthy", ())]
    out += [Scenario("single", (f,)) for f in singles]
    out += [Scenario("node_down", (f,)) for f in downs]
    for a, b in combinations([*singles, *downs], 2):
        if a.lb == b.lb and (a.node_down or b.node_down):
            continue  # a check failing on a node that is down changes nothing
        out.append(Scenario("pair", (a, b)))
    haproxy = [w.name for w in watchers] or [HAPROXY_DOWN]
    out.append(Scenario("all_haproxy_down",
                        tuple(Failure(lb, name) for lb in lbs for name in haproxy)))
    return tuple(out)


def effective(base: int, checks: tuple[Check, ...], failing: frozenset[str]) -> int | None:
    """Keepalived's effective priority for one node, or None when a weight-0 check fails."""
    priority = base
    for check in checks:
        fails = check.name in failing
        if fails and check.weight == 0:
            return None
        counts = not fails if check.weight > 0 else fails
        if counts:
            priority += check.weight
    return max(MIN_PRIORITY, min(MAX_PRIORITY, priority))


def _node(plan: Plan, region: Region, index: int, eip: int, failures: tuple[Failure, ...],
          watchers: frozenset[str]) -> NodeState:
    lb = region.load_balancers[index]
    mine = [f for f in failures if f.lb == lb.key]
    if any(f.node_down for f in mine):
        return NodeState(lb.key, lb.private_ip, "down", 0, False, False)
    failing = frozenset(f.check for f in mine)
    haproxy_up = not (failing & (watchers | {HAPROXY_DOWN}))
    priority = effective(lb.instances[eip].priority, plan.keepalived.checks, failing)
    if priority is None:
        return NodeState(lb.key, lb.private_ip, "FAULT", 0, haproxy_up, False)
    return NodeState(lb.key, lb.private_ip, "up", priority, haproxy_up, not failing)


def decide(eip: str, owner: str, nodes: tuple[NodeState, ...]) -> Outcome:
    """Highest effective priority among live, non-FAULT nodes; the higher IP breaks a tie."""
    live = sorted((n for n in nodes if n.state == "up"),
                  key=lambda n: (n.priority, int(IPv4Address(n.ip))), reverse=True)
    if not live:
        return Outcome(eip, owner, nodes, "", "", None, False)
    if len(live) == 1:
        return Outcome(eip, owner, nodes, live[0].lb, "", None, False)
    first, second = live[0], live[1]
    return Outcome(eip, owner, nodes, first.lb, second.lb, first.priority - second.priority,
                   first.priority == second.priority)


def analyse_region(plan: Plan, region: Region) -> RegionReport:
    watchers = frozenset(c.name for c in haproxy_checks(plan))
    rows = []
    for scenario in scenarios(plan, region):
        outcomes = []
        for e, eip in enumerate(region.eips):
            nodes = tuple(_node(plan, region, i, e, scenario.failures, watchers)
                          for i in range(len(region.load_balancers)))
            outcomes.append(decide(eip.key, eip.master, nodes))
        rows.append(Row(scenario, tuple(outcomes)))
    return RegionReport(region.name, tuple(lb.key for lb in region.load_balancers),
                        tuple(e.key for e in region.eips), tuple(rows))


def analyse_regions(plan: Plan) -> tuple[RegionReport, ...]:
    return tuple(analyse_region(plan, region) for region in plan.regions)


def describe(scenario: Scenario) -> str:
    """The scenario in words, e.g. ``chk_sshd fails on lb1 + lb2 down``."""
    if scenario.kind == "healthy":
        return "all healthy"
    if scenario.kind == "all_haproxy_down":
        return "HAProxy down on every node"
    parts = []
    for f in scenario.failures:
        if f.node_down:
            parts.append(f"{f.lb} down")
        elif f.check == HAPROXY_DOWN:
            parts.append(f"HAProxy dies on {f.lb}")
        else:
            parts.append(f"{f.check} fails on {f.lb}")
    return " + ".join(parts)
