"""The trivy findings this architecture accepts, and why: the trivy twin of `checkov.SKIPS`.

trivy ignores checkov's comments and honours its own, ``#trivy:ignore:AVD-AWS-NNNN`` on the
line before the resource block. Each accepted finding is written twice from the same data, as
that inline comment (with the reason on the comment line above it) and as a line of the bundle
README, so the two cannot drift apart. Unlike the checkov table most entries depend on the
plan: an egress rule to 0.0.0.0/0 carries its own reason (hacompile.plan.security) and is
ignored by its for_each key alone, so a rule added later is scanned; the flow-log findings
exist only for the chosen destination.
"""

from __future__ import annotations

from hacompile.plan.model import Plan
from hacompile.record import Record
from hacompile.render.checkov import SKIPS

__all__ = ["TrivyIgnore", "ignores_for", "ignores_for_plan"]

PUBLIC_EGRESS = "AVD-AWS-0104"
FLOW_LOGS = "AVD-AWS-0178"
LOG_GROUP_CMK = "AVD-AWS-0017"


class TrivyIgnore(Record):
    resource: str  # Terraform address without index
    check: str  # AVD-AWS-NNNN
    reason: str
    # the for_each key the ignore is scoped to (`#trivy:ignore:ID[each.key=KEY]`, trivy 0.76
    # applies it to that instance only); "" for the whole resource
    key: str = ""

    @property
    def address(self) -> str:
        """The resource, or the one instance the ignore is scoped to, as Terraform names it."""
        return f'{self.resource}["{self.key}"]' if self.key else self.resource


def _reason_of(resource: str, check: str) -> str:
    """The reason of the checkov skip for the same finding: one wording for both tools."""
    return next(s.reason for s in SKIPS if s.resource == resource and s.check == check)


def ignores_for_plan(plan: Plan) -> tuple[TrivyIgnore, ...]:
    """Every accepted trivy finding of this plan's bundle, in a stable order, once each."""
    found: dict[tuple[str, str, str], TrivyIgnore] = {}

    def add(resource: str, check: str, reason: str, key: str = "") -> None:
        found.setdefault((resource, check, key), TrivyIgnore(resource, check, reason, key))

    for region in plan.regions:
        destination = region.flow_logs.destination
        if destination == "none":
            add("aws_vpc.main", FLOW_LOGS, _reason_of("aws_vpc.main", "CKV2_AWS_11"))
        if destination == "cloudwatch":
            group = "aws_cloudwatch_log_group.flow_logs"
            add(group, LOG_GROUP_CMK, _reason_of(group, "CKV_AWS_158"))
        for prefix, rules in (("lb", region.lb_egress), ("backend", region.backend_egress)):
            for rule in rules:
                if rule.internet:
                    add(
                        f"aws_vpc_security_group_egress_rule.{prefix}_egress",
                        PUBLIC_EGRESS,
                        rule.internet,
                        rule.key,
                    )
    return tuple(found.values())


def ignores_for(resource: str, plan: Plan) -> tuple[TrivyIgnore, ...]:
    """The ignores to write before `resource`'s block."""
    return tuple(i for i in ignores_for_plan(plan) if i.resource == resource)
