"""The IAM policy documents, as data: written verbatim as JSON files into the bundle.

Least privilege for the load balancers' instance role. At run time Keepalived only needs to
look at addresses and interfaces (Describe*: AWS allows no resource scoping there) and to
associate (and, for completeness, disassociate) this cluster's EIPs with this cluster's
interfaces in this region. Both resources are matched by the cluster tag, which the role cannot
write: no ec2:CreateTags, no Allocate/Release/Assign/Unassign.
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
    arn = f"arn:{plan.partition}:ec2:{region.name}:*"
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
                    "StringEquals": {f"aws:ResourceTag/{plan.cluster_tag_key}": plan.name}
                },
            },
        ],
    }
