"""The IAM policy documents, as data: written verbatim as JSON files into the bundle.

Least privilege for the load balancers' instance role. At run time Keepalived only needs to
look at addresses and interfaces (Describe*: AWS allows no resource scoping there) and to
associate (and, for completeness, disassociate) this cluster's EIPs with this cluster's
interfaces in this region. Both resources are matched by the deployment tag, which the role
cannot write: no ec2:CreateTags, no Allocate/Release/Assign/Unassign. What that does not stop:
anyone else in the account allowed ec2:CreateTags can put our tag value on another EIP and let
our load balancers move it (an SCP or tag policy denying CreateTags on the key closes that).
A bundle with private VIPs adds one policy (vip_failover_policy): route tables to read and the
named ones to write, and reassigning private IPs (Assign, never Unassign) only to interfaces
that carry the deployment tag.
"""

from __future__ import annotations

from typing import Any

from hacompile.plan.model import Plan, Region


def assume_role_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Ec2AssumesTheLoadBalancerRole",
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def eip_failover_policy(plan: Plan, region: Region) -> dict[str, Any]:
    """Associate only where the EIP and the interface both carry the role's own deployment tag.

    The value is compared with `${aws:PrincipalTag/...}`, the same tag on the role itself: the
    policy stays a static file, and the tag value (cluster, region and an ID Terraform
    generates once, see plan/build.py DEPLOYMENT_TAG) differs between two deployments of the
    same name in one account. A role without the tag matches nothing."""
    arn = f"arn:{plan.partition}:ec2:{region.name}:*"
    key = plan.deployment_tag_key
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SeeAddressesAndInterfaces",
                "Effect": "Allow",
                "Action": ["ec2:DescribeAddresses", "ec2:DescribeNetworkInterfaces"],
                "Resource": "*",
            },
            {
                "Sid": "MoveThisClustersEipsBetweenItsInterfaces",
                "Effect": "Allow",
                "Action": ["ec2:AssociateAddress", "ec2:DisassociateAddress"],
                "Resource": [f"{arn}:elastic-ip/*", f"{arn}:network-interface/*"],
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/{key}": f"${{aws:PrincipalTag/{key}}}"}
                },
            },
        ],
    }


def flow_logs_assume_role_policy(plan: Plan, region: Region) -> dict[str, Any]:
    """Only the flow-logs service, and only for flow logs of this account in this region (the
    confused-deputy guard AWS recommends). `${account_id}` is filled in by Terraform's
    templatefile from aws_caller_identity: the account is not known at compile time."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "VpcFlowLogsOfThisAccountAssumeTheDeliveryRole",
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": "${account_id}"},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{plan.partition}:ec2:{region.name}:"
                        "${account_id}:vpc-flow-log/*"
                    },
                },
            }
        ],
    }


def flow_logs_delivery_policy(plan: Plan, region: Region) -> dict[str, Any]:
    """Write to this region's flow-log group and nothing else; the group is created by
    Terraform, so the role needs no logs:CreateLogGroup."""
    group = f"arn:{plan.partition}:logs:{region.name}:*:log-group:{region.flow_logs.log_group}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DeliverFlowLogsToThisClustersLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [group, f"{group}:*"],
            },
            {
                # In AWS's documented delivery policy; IAM takes it on "*" only. It lists log
                # group names and settings, never their contents.
                "Sid": "FindTheLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "*",
            },
        ],
    }


def vip_failover_policy(plan: Plan, region: Region) -> dict[str, Any] | None:
    """What hacompile-eip-claim needs for the region's private VIPs (None: the region has none).

    route: describe-route-tables to verify (and find whether a table has the VIP/32 route yet),
    replace-route / create-route on exactly the existing route tables the spec names. The
    module's own table is granted by the module (own_route_table_policy): its ID exists only
    once Terraform created it. secondary_ip: assign-private-ip-addresses --allow-reassignment
    onto this deployment's interfaces only, matched by the deployment tag as for the EIPs."""
    if not region.vips:
        return None
    statements: list[dict[str, Any]] = []
    if any(v.strategy == "route" for v in region.vips):
        statements.append(
            {
                # ec2:DescribeRouteTables has no resource-level permissions (the EC2 service
                # authorization reference lists no resource type for it): "*" is all IAM takes.
                "Sid": "SeeRouteTables",
                "Effect": "Allow",
                "Action": "ec2:DescribeRouteTables",
                "Resource": "*",
            }
        )
    tables = sorted({t for v in region.vips for t in v.route_tables})
    if tables:
        statements.append(
            {
                "Sid": "PointTheVipRoutesOfTheNamedTablesAtAnInterface",
                "Effect": "Allow",
                "Action": ["ec2:CreateRoute", "ec2:ReplaceRoute"],
                "Resource": [
                    f"arn:{plan.partition}:ec2:{region.name}:${{account_id}}:route-table/{t}"
                    for t in tables
                ],
            }
        )
    if any(v.strategy == "secondary_ip" for v in region.vips):
        key = plan.deployment_tag_key
        statements.append(
            {
                "Sid": "ReassignTheVipsToThisClustersInterfaces",
                "Effect": "Allow",
                "Action": "ec2:AssignPrivateIpAddresses",
                "Resource": f"arn:{plan.partition}:ec2:{region.name}:*:network-interface/*",
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/{key}": f"${{aws:PrincipalTag/{key}}}"}
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def own_route_table_policy() -> dict[str, Any]:
    """Point the VIP routes of the module's own route table at an interface: exactly that
    table. Its ID (and so its ARN) exists only once Terraform created it, inside the module, so
    no region root can fill it in: this is the module's own template, which it fills with
    templatefile from aws_route_table.public.arn. A placeholder the root passes would need the
    module's output as the module's input; building the JSON in HCL would hide it from the
    policy linters, which read these files with an example ARN."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PointTheVipRoutesOfTheOwnTableAtAnInterface",
                "Effect": "Allow",
                "Action": ["ec2:CreateRoute", "ec2:ReplaceRoute"],
                "Resource": "${route_table_arn}",
            }
        ],
    }
