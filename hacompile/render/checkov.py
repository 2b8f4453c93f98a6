"""The checkov checks this architecture deliberately does not meet, and why.

Why one table: each skip is written twice, as an inline `# checkov:skip=ID: reason` comment in
the resource it concerns (so checkov, run by the user or by `hacompile verify`, accepts it) and
as a line of the bundle README (so a reviewer sees every exception in one place). Both are
rendered from this table, so they cannot drift apart; `hacompile verify` checks that every
inline skip has a reason and is listed in the README.
"""

from __future__ import annotations

from hacompile.plan.model import Plan
from hacompile.record import Record

__all__ = ["SKIPS", "CheckovSkip", "skips_for", "skips_for_plan"]


class CheckovSkip(Record):
    resource: str  # Terraform address without index, e.g. "aws_instance.lb"
    check: str
    reason: str
    demo_only: bool = False  # the resource exists only with demo backends
    when: str = ""  # a spec setting the skip depends on: see `_conditions`


SKIPS: tuple[CheckovSkip, ...] = (
    CheckovSkip(
        "aws_eip.service",
        "CKV2_AWS_19",
        "Terraform allocates the EIPs but never associates them; Keepalived's notify "
        "script moves each EIP to the VRRP master at run time",
    ),
    CheckovSkip(
        "aws_instance.lb",
        "CKV_AWS_88",
        "the load balancers sit in public subnets with no NAT or bastion: the public "
        "address carries SSH from ssh_cidrs only and their calls to the EC2 API",
    ),
    CheckovSkip(
        "aws_instance.backend",
        "CKV_AWS_88",
        "demo backends sit in public subnets with no NAT: the public address lets them "
        "install nginx and carries SSH from ssh_cidrs only",
        demo_only=True,
    ),
    CheckovSkip(
        "aws_instance.backend",
        "CKV2_AWS_41",
        "demo backends call no AWS API, so least privilege means no IAM role",
        demo_only=True,
    ),
    CheckovSkip(
        "aws_vpc.main",
        "CKV2_AWS_11",
        "the spec turns VPC flow logs off (security.flow_logs.destination: none)",
        when="flow_logs_none",
    ),
    CheckovSkip(
        "aws_cloudwatch_log_group.flow_logs",
        "CKV_AWS_158",
        "flow-log records (addresses, ports, byte counts; no payload) are encrypted at "
        "rest by CloudWatch Logs with AWS-managed keys; a customer-managed KMS key "
        "would add a key policy to get right, a monthly charge per region and a "
        "7-30 day deletion window to every teardown, for no reader it would exclude "
        "that IAM does not already exclude",
        when="flow_logs_cloudwatch",
    ),
    CheckovSkip(
        "aws_vpc_security_group_egress_rule.lb_egress",
        "CKV_AWS_382",
        "the spec opens all egress (security.egress.unrestricted: true)",
        when="egress_open",
    ),
    CheckovSkip(
        "aws_vpc_security_group_egress_rule.backend_egress",
        "CKV_AWS_382",
        "the spec opens all egress (security.egress.unrestricted: true)",
        demo_only=True,
        when="egress_open",
    ),
    CheckovSkip(
        "aws_vpc.main",
        "CKV2_AWS_11",
        "false positive: where a region may bring its own VPC the module counts its VPC, and "
        "checkov cannot link a counted VPC to its flow log, which has the same count",
        when="existing_network_flow_logs",
    ),
    CheckovSkip(
        "aws_vpc.main",
        "CKV2_AWS_12",
        "false positive: where a region may bring its own VPC the module counts its VPC and "
        "the default-group lockdown with it, which checkov cannot link",
        when="existing_network",
    ),
    CheckovSkip(
        "aws_vpc_security_group_ingress_rule.lb_frontend",
        "CKV_AWS_260",
        "the frontends are public services: ingress from anywhere on their ports is "
        "the point of the load balancer",
    ),
    CheckovSkip(
        "aws_vpc_security_group_ingress_rule.backend_from_lb",
        "CKV_AWS_260",
        "false positive: the rule admits only the load balancers' security group "
        "(referenced_security_group_id), no CIDR",
        demo_only=True,
    ),
)


def _conditions(plan: Plan) -> frozenset[str]:
    """The spec settings that decide whether a conditional skip's resource or finding exists
    (all regions share them: they come from spec-wide settings)."""
    out = set()
    for region in plan.regions:
        out.add(f"flow_logs_{region.flow_logs.destination}")
        if any(rule.protocol == "-1" for rule in region.lb_egress):
            out.add("egress_open")
    if any(region.vpc_id for region in plan.regions):
        out.add("existing_network")
        if any(region.flow_logs.destination != "none" for region in plan.regions):
            out.add("existing_network_flow_logs")
    return frozenset(out)


def skips_for(resource: str, plan: Plan | None = None) -> tuple[CheckovSkip, ...]:
    """The skips to write inside `resource`'s block (a template emits the block or not).
    Conditional skips (`when`) need the plan."""
    active = _conditions(plan) if plan is not None else frozenset()
    return tuple(s for s in SKIPS if s.resource == resource and (not s.when or s.when in active))


def skips_for_plan(plan: Plan) -> tuple[CheckovSkip, ...]:
    """The skips present somewhere in this plan's bundle, for the README."""
    demo = any(region.demo_backends for region in plan.regions)
    active = _conditions(plan)
    return tuple(s for s in SKIPS if (demo or not s.demo_only) and (not s.when or s.when in active))
