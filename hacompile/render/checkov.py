"""The checkov checks this architecture deliberately does not meet, and why.

Why one table: each skip is written twice, as an inline `# checkov:skip=ID: reason` comment in
the resource it concerns (so checkov, run by the user or by `hacompile verify`, accepts it) and
as a line of the bundle README (so a reviewer sees every exception in one place). Both are
rendered from this table, so they cannot drift apart; `hacompile verify` checks that every
inline skip has a reason and is listed in the README.
"""

from __future__ import annotations

from typing import NamedTuple

from hacompile.plan.model import Plan

__all__ = ["SKIPS", "CheckovSkip", "skips_for", "skips_for_plan"]


class CheckovSkip(NamedTuple):
    resource: str  # Terraform address without index, e.g. "aws_instance.lb"
    check: str
    reason: str
    demo_only: bool = False  # the resource exists only with demo backends


SKIPS: tuple[CheckovSkip, ...] = (
    CheckovSkip("aws_eip.service", "CKV2_AWS_19",
                "Terraform allocates the EIPs but never associates them; Keepalived's notify "
                "script moves each EIP to the VRRP master at run time"),
    CheckovSkip("aws_instance.lb", "CKV_AWS_88",
                "the load balancers sit in public subnets with no NAT or bastion: the public "
                "address carries SSH from ssh_cidrs only and their calls to the EC2 API"),
    CheckovSkip("aws_instance.backend", "CKV_AWS_88",
                "demo backends sit in public subnets with no NAT: the public address lets them "
                "install nginx and carries SSH from ssh_cidrs only", demo_only=True),
    CheckovSkip("aws_instance.backend", "CKV2_AWS_41",
                "demo backends call no AWS API, so least privilege means no IAM role",
                demo_only=True),
    CheckovSkip("aws_vpc.main", "CKV2_AWS_11",
                "VPC flow logs need a destination, retention and budget the operator chooses; "
                "hacompile does not create one"),
    CheckovSkip("aws_vpc_security_group_ingress_rule.lb_frontend", "CKV_AWS_260",
                "the frontends are public services: ingress from anywhere on their ports is "
                "the point of the load balancer"),
    CheckovSkip("aws_vpc_security_group_ingress_rule.backend_from_lb", "CKV_AWS_260",
                "false positive: the rule admits only the load balancers' security group "
                "(referenced_security_group_id), no CIDR", demo_only=True),
)


def skips_for(resource: str) -> tuple[CheckovSkip, ...]:
    """The skips to write inside `resource`'s block (a template emits the block or not)."""
    return tuple(s for s in SKIPS if s.resource == resource)


def skips_for_plan(plan: Plan) -> tuple[CheckovSkip, ...]:
    """The skips present somewhere in this plan's bundle, for the README."""
    demo = any(region.demo_backends for region in plan.regions)
    return tuple(s for s in SKIPS if demo or not s.demo_only)
