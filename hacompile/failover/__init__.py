"""The failover proof: what Keepalived will do with the spec's priorities and check weights.

Users of Keepalived most often get the arithmetic wrong: a weight that cannot overcome the
priority gap, so a node whose HAProxy died keeps its Elastic IP. hacompile enumerates the
failures that matter (`scenarios`), derives who holds each EIP and private VIP in each of them
the way Keepalived decides it, rejects specs where a broken node keeps traffic (`proof`) and
explains the timing (`timing`). `analyse` computes the frozen `Report`; `prove` is the
pipeline's stage (plan in, report out, errors raised located), run once per command: the CLI and
the README both format the report it returns.
"""

from __future__ import annotations

from hacompile.errors import Diagnostic, Severity, SpecError
from hacompile.failover.model import Report
from hacompile.failover.proof import findings, located
from hacompile.failover.scenarios import analyse_regions
from hacompile.failover.timing import dns_timeline, failback, timings, vip_timings
from hacompile.load import Positions
from hacompile.plan.model import Plan
from hacompile.record import Record

TIE_RULE = (
    "Ties: when two nodes advertise the same effective priority, the one with the higher "
    "primary (unicast source) IP wins an election, as in RFC 5798 and Keepalived's "
    "vrrp_state_master_rx; a BACKUP never preempts a MASTER of equal priority, so in steady "
    "state a tie keeps the EIP where it is."
)


def analyse(plan: Plan) -> Report:
    """Every region's scenario table, the proof's findings, the timing and failback.

    Not cached: the pipeline runs it once per command (`prove`) and passes the report on."""
    regions = analyse_regions(plan)
    eips = timings(plan)
    return Report(
        regions=regions,
        timings=eips,
        failback=failback(plan),
        findings=findings(plan, regions),
        haproxy_checks=tuple(
            c.name
            for c in plan.keepalived.checks
            if c.kind == "process" and c.process == plan.flavor.haproxy_process
        ),
        haproxy_process=plan.flavor.haproxy_process,
        tie_rule=TIE_RULE,
        dns=dns_timeline(plan),
        vip_timings=vip_timings(plan, eips),
    )


class Proven(Record):
    """The proof stage's result: the report, and its findings located in the spec."""

    report: Report
    diagnostics: tuple[Diagnostic, ...]


class ProofFailed(SpecError):
    """The proof found errors; `explain` still shows the report, so it travels with them."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...], report: Report) -> None:
        super().__init__(diagnostics)
        self.report = report


def prove(plan: Plan, positions: Positions, file: str) -> Proven:
    """The pipeline's proof stage: analyse the plan once, locate the findings at the spec
    positions (``keepalived.checks[2].weight``); raise `ProofFailed` when any is an error."""
    report = analyse(plan)
    found = located(report.findings, positions, file)
    if any(d.severity is Severity.ERROR for d in found):
        raise ProofFailed(found, report)
    return Proven(report, found)


__all__ = ["TIE_RULE", "ProofFailed", "Proven", "Report", "analyse", "prove"]
