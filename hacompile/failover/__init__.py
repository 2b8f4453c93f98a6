"""The failover proof: what Keepalived will do with the spec's priorities and check weights.

Users of Keepalived most often get the arithmetic wrong: a weight that cannot overcome the
priority gap, so a node whose HAProxy died keeps its Elastic IP. hacompile enumerates the
failures that matter (`scenarios`), derives who holds each EIP in each of them the way
Keepalived decides it, rejects specs where a broken node keeps traffic (`proof`) and explains
the timing (`timing`). `analyse` is the one entry point; the CLI and the README both format its
frozen `Report`.
"""

from __future__ import annotations

from functools import lru_cache

from hacompile.failover.model import Report
from hacompile.failover.proof import findings
from hacompile.failover.scenarios import analyse_regions
from hacompile.failover.timing import failback, timings
from hacompile.plan.model import Plan

TIE_RULE = (
    "Ties: when two nodes advertise the same effective priority, the one with the higher "
    "primary (unicast source) IP wins an election, as in RFC 5798 and Keepalived's "
    "vrrp_state_master_rx; a BACKUP never preempts a MASTER of equal priority, so in steady "
    "state a tie keeps the EIP where it is."
)


@lru_cache(maxsize=1)
def analyse(plan: Plan) -> Report:
    """Every region's scenario table, the proof's findings, the timing and failback.

    Cached (plans are frozen and hashable): `build` asks twice for the same plan, once in
    validation and once for the README, and with many regions the analysis is the largest
    part of the compile."""
    regions = analyse_regions(plan)
    return Report(
        regions=regions,
        timings=timings(plan),
        failback=failback(plan),
        findings=findings(plan, regions),
        haproxy_checks=tuple(c.name for c in plan.keepalived.checks
                             if c.kind == "process" and c.process == plan.flavor.haproxy_process),
        haproxy_process=plan.flavor.haproxy_process,
        tie_rule=TIE_RULE,
    )


__all__ = ["TIE_RULE", "Report", "analyse"]
