"""Enumerate the failures that matter and decide, per VRRP instance, who holds its address.

Every instance is decided: one per EIP, held by every load balancer of the region, and one
per private VIP (regions[].vips), held only by the VIP's `holders`, so a VIP whose holders
are all down or in FAULT has no holder, even while other load balancers run.

Keepalived's arithmetic, as used here:
- a check with a positive weight adds it while the check passes; a negative weight subtracts
  its size while the check fails; a failing weight-0 check puts the node in FAULT;
- the effective priority is clamped to 1..254 (255 is reserved for an address owner);
- the EIP goes to the highest effective priority among nodes that are up and not in FAULT;
  equal priorities are decided by the higher primary IP (see `hacompile.failover.TIE_RULE`).

The states enumerated per region: everything healthy, each check failing on each node, each
node down, each pair of those failures, and every HAProxy down at once. Pairs are what catch
weights that only work while the peer is perfect.

Cost: with L load balancers and C checks a region has F = L*(C+1) single failures and about
F^2/2 pairs, each decided for L EIPs over L nodes: O(L^3 C^2) per distinct layout, quadratic
in checks by design (the pairs), linear in regions (`analyse_regions` analyses each distinct
layout once). It is bounded by the spec's bounds (`hacompile.spec.bounds`: L <= 8, C <= 8,
at most 64 load balancers in all, so at most 8 layouts of 8): 2,566 scenarios per layout,
~0.1-0.2 s; the worst case, 8 regions of 8 whose subnets are all ordered differently so no two
share a layout, ~1.7 s for a whole `validate` on the benchmark machine (benchmarks/bounds.py,
docs/hostile-input.md "Bounds"); 64 such regions, before the instance bound, took 16 s.
Before checks had a bound, 100 checks on 8 load balancers took 43 s and 850 MB, 10,000 ran
past 100 s and 4 GB.
Private VIPs (at most 8 per region, `hacompile.spec.vips.MAX_VIPS`) add one column each, over
at most L nodes: 8 load balancers with 8 VIPs and 8 checks took 0.2 s a layout instead of 0.1.
"""

from __future__ import annotations

from functools import cache
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
_Keyed = tuple[NodeState, tuple[int, int]]  # a node's state and its (priority, IP) sort key


def haproxy_checks(plan: Plan) -> tuple[Check, ...]:
    """The checks that fail exactly when HAProxy is down: process checks on its process."""
    return tuple(
        c
        for c in plan.keepalived.checks
        if c.kind == "process" and c.process == plan.flavor.haproxy_process
    )


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
    out.append(
        Scenario("all_haproxy_down", tuple(Failure(lb, name) for lb in lbs for name in haproxy))
    )
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


def _node(
    plan: Plan,
    region: Region,
    index: int,
    base: int,
    failures: tuple[Failure, ...],
    watchers: frozenset[str],
) -> NodeState:
    """Node `index` in one instance whose base priority there is `base`."""
    lb = region.load_balancers[index]
    mine = [f for f in failures if f.lb == lb.key]
    if any(f.node_down for f in mine):
        return NodeState(lb.key, lb.private_ip, "down", 0, False, False)
    failing = frozenset(f.check for f in mine)
    haproxy_up = not (failing & (watchers | {HAPROXY_DOWN}))
    priority = effective(base, plan.keepalived.checks, failing)
    if priority is None:
        return NodeState(lb.key, lb.private_ip, "FAULT", 0, haproxy_up, False)
    return NodeState(lb.key, lb.private_ip, "up", priority, haproxy_up, not failing)


def columns(region: Region) -> tuple[tuple[str, str, str, tuple[int | None, ...]], ...]:
    """Each VRRP instance of the region: (name, owner, strategy, each LB's base priority in
    it or None where that LB does not hold it). The EIPs first (every LB holds each; its
    instances start with them, in EIP order), then the VIPs, held by their `holders` only."""
    lbs = region.load_balancers
    out: list[tuple[str, str, str, tuple[int | None, ...]]] = [
        (eip.key, eip.master, "eip", tuple(lb.instances[e].priority for lb in lbs))
        for e, eip in enumerate(region.eips)
    ]
    for vip in region.vips:
        bases = tuple(
            next((i.priority for i in lb.instances if i.name == vip.name), None)
            if lb.key in vip.holders
            else None
            for lb in lbs
        )
        out.append((vip.name, vip.master, vip.strategy, bases))
    return tuple(out)


@cache
def _ip_order(ip: str) -> int:
    return int(IPv4Address(ip))


def decide(eip: str, owner: str, nodes: tuple[NodeState, ...]) -> Outcome:
    """Highest effective priority among live, non-FAULT nodes; the higher IP breaks a tie."""
    first = second = None  # the two highest (priority, IP): one pass instead of a sort
    for node in nodes:
        if node.state != "up":
            continue
        if first is None or (node.priority, _ip_order(node.ip)) > (
            first.priority,
            _ip_order(first.ip),
        ):
            first, second = node, first
        elif second is None or (node.priority, _ip_order(node.ip)) > (
            second.priority,
            _ip_order(second.ip),
        ):
            second = node
    if first is None:
        return Outcome(eip, owner, nodes, "", "", None, False)
    if second is None:
        return Outcome(eip, owner, nodes, first.lb, "", None, False)
    return Outcome(
        eip,
        owner,
        nodes,
        first.lb,
        second.lb,
        first.priority - second.priority,
        first.priority == second.priority,
    )


def analyse_region(plan: Plan, region: Region) -> RegionReport:
    """Cost: a node's state depends only on its own failures, so each (node, own failures) is
    computed once for every instance and the frozen NodeStates shared, and `decide` runs on
    precomputed (priority, IP) keys; without that, 50 regions of 8 load balancers (~800
    scenarios x 8 EIPs x 8 nodes each) took seconds and hundreds of MB. A VIP is decided
    over its holders only: a load balancer without its instance is never a candidate."""
    watchers = frozenset(c.name for c in haproxy_checks(plan))
    rows = []
    cols = columns(region)
    # (node index, ids of its own failures) -> its NodeState and sort key per column (None
    # where it holds no instance)
    known: dict[tuple[int, tuple[int, ...]], tuple[_Keyed | None, ...]] = {}
    keys = [lb.key for lb in region.load_balancers]
    for scenario in scenarios(plan, region):
        own: dict[str, tuple[Failure, ...]] = {}
        for failure in scenario.failures:
            own[failure.lb] = (*own.get(failure.lb, ()), failure)
        states = []
        for i, key in enumerate(keys):
            mine = own.get(key, ())
            ident = (i, tuple(map(id, mine)))  # failures are shared objects: ids are stable
            entry = known.get(ident)
            if entry is None:
                entry = known[ident] = tuple(
                    _keyed(plan, region, i, bases[i], mine, watchers) for _, _, _, bases in cols
                )
            states.append(entry)
        outcomes = tuple(
            _decide_keyed(name, owner, [k for s in states if (k := s[c]) is not None], strategy)
            for c, (name, owner, strategy, _) in enumerate(cols)
        )
        rows.append(Row(scenario, outcomes))
    return RegionReport(
        region.name,
        tuple(lb.key for lb in region.load_balancers),
        tuple(e.key for e in region.eips),
        tuple(rows),
        vips=tuple(v.name for v in region.vips),
    )


def _keyed(
    plan: Plan,
    region: Region,
    index: int,
    base: int | None,
    failures: tuple[Failure, ...],
    watchers: frozenset[str],
) -> _Keyed | None:
    """Node `index`'s state in one instance with its sort key; None if it holds none there."""
    if base is None:
        return None
    node = _node(plan, region, index, base, failures, watchers)
    return node, (node.priority, _ip_order(node.ip))


def _decide_keyed(eip: str, owner: str, keyed: list[_Keyed], strategy: str) -> Outcome:
    """`decide` with each node's (priority, IP) key computed once: same result."""
    nodes = tuple(n for n, _ in keyed)
    first: _Keyed | None = None
    second: _Keyed | None = None
    for item in keyed:
        if item[0].state != "up":
            continue
        if first is None or item[1] > first[1]:
            first, second = item, first
        elif second is None or item[1] > second[1]:
            second = item
    if first is None:
        return Outcome(eip, owner, nodes, "", "", None, False, strategy)
    top = first[0]
    if second is None:
        return Outcome(eip, owner, nodes, top.lb, "", None, False, strategy)
    runner = second[0]
    return Outcome(
        eip,
        owner,
        nodes,
        top.lb,
        runner.lb,
        top.priority - runner.priority,
        top.priority == runner.priority,
        strategy,
    )


def layout(region: Region) -> tuple[object, ...]:
    """Everything a region's scenario table depends on besides the plan-wide checks: the LB
    names, every instance (EIP or VIP: name, owner, strategy, each LB's priority in it or
    none), and the order of the LBs' primary IPs (the tie-break), but not the IPs themselves
    or the region's name."""
    lbs = region.load_balancers
    ips = sorted({_ip_order(lb.private_ip) for lb in lbs})
    return (
        tuple(lb.key for lb in lbs),
        columns(region),
        tuple(ips.index(_ip_order(lb.private_ip)) for lb in lbs),
    )


def analyse_regions(plan: Plan) -> tuple[RegionReport, ...]:
    """Each distinct layout is analysed once, for its first region; later regions with the
    same layout share those rows (`RegionReport.same_as`): 50 regions of one shape cost one."""
    done: dict[tuple[object, ...], RegionReport] = {}
    out = []
    for region in plan.regions:
        key = layout(region)
        first = done.get(key)
        if first is None:
            first = done[key] = analyse_region(plan, region)
            out.append(first)
        else:
            out.append(
                RegionReport(
                    region.name, first.lbs, first.eips, first.rows, first.region, first.vips
                )
            )
    return tuple(out)


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
