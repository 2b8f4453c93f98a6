"""The spec's attack-surface settings: which AMI the load balancers boot, VPC flow logs, egress.

Kept apart from `hacompile.spec.model` (which imports this module) so that the security shape
can grow without touching the main model. Defaults are the safe choice: flow logs on (to
CloudWatch Logs, one year), egress limited to what the tier needs, the HAProxy Enterprise AMI
matched by its Marketplace product code (hacompile.plan.amis) and not by a name any seller can
publish. The cross-field rules (a product code hacompile does not know, an S3 destination
without a bucket) live in `hacompile.spec.rules`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from hacompile.spec.types import PATTERN_HELP, Cidr, Port

# EC2 AMI IDs: "ami-" and 8 (older) or 17 lower-case hex digits.
AmiId = Annotated[str, StringConstraints(pattern=r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")]
# AWS Marketplace product codes are 25 lower-case letters and digits
# (e.g. 483gxnuft87jy44d3q8n4kvt1, the HAProxy Enterprise 1.8 product in the blog).
AmiProductCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{25}$")]
# A bucket ARN (optionally with a key prefix) as aws_flow_log's log_destination takes it.
S3BucketArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws(-us-gov|-cn)?:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._-]+)*/?$"
    ),
]

PATTERN_HELP.update(
    {
        r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$": "an AMI ID: ami- and 8 or 17 lower-case hex digits",
        r"^[a-z0-9]{25}$": "an AWS Marketplace product code: 25 lower-case letters and digits",
        r"^arn:aws(-us-gov|-cn)?:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._-]+)*/?$": (
            "an S3 bucket ARN such as arn:aws:s3:::my-flow-logs (optionally /a/prefix)"
        ),
    }
)

# The values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy).
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


class _Strict(BaseModel):
    # The same configuration as hacompile.spec.model.Strict (which imports this module).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FlowLogsSpec(_Strict):
    """VPC flow logs of every region's VPC. ``cloudwatch``: a log group the bundle creates,
    written by a delivery role only the flow-logs service of this account can assume;
    ``s3``: a bucket you own (its bucket policy must admit delivery.logs.amazonaws.com);
    ``none``: no flow logs (the bundle README then lists the accepted finding)."""

    destination: Literal["cloudwatch", "s3", "none"] = "cloudwatch"
    # CloudWatch only. A year by default: what CIS and checkov (CKV_AWS_338) ask for.
    retention_days: int = 365
    s3_bucket_arn: S3BucketArn | None = None

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in RETENTION_DAYS:
            raise ValueError(
                "CloudWatch Logs keeps logs for one of "
                + ", ".join(map(str, RETENTION_DAYS))
                + " days"
            )
        return value


class EgressRuleSpec(_Strict):
    """One more destination the load balancers may open connections to."""

    cidr: Cidr
    port: Port
    protocol: Literal["tcp", "udp"] = "tcp"


class EgressSpec(_Strict):
    """Outbound traffic. By default the load balancers reach only their backends (the backend
    port), their VRRP peers (IP protocol 112), the VPC resolver (53) and HTTPS/HTTP anywhere
    (the EC2 API for EIP moves and the package mirrors); demo backends reach only HTTP/HTTPS
    and DNS. ``allow`` adds destinations for the load balancers; ``unrestricted: true`` opens
    all egress to 0.0.0.0/0 again on every group (and the bundle README says so)."""

    unrestricted: bool = False
    allow: Annotated[list[EgressRuleSpec], Field(max_length=50)] = []


class SecuritySpec(_Strict):
    flow_logs: FlowLogsSpec = FlowLogsSpec()
    egress: EgressSpec = EgressSpec()
    # An interface VPC endpoint for the EC2 API in the load balancers' subnets (private DNS on,
    # HTTPS from the load balancers only): an EIP claim then never crosses the internet path,
    # so a failover does not depend on it. About 0.01 USD per hour per zone, plus data.
    ec2_endpoint: bool = False
