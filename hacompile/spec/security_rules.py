"""Cross-field rules of the attack-surface settings (hacompile.spec.security, issue 11).

- HAProxy Enterprise without a known Marketplace product code: the AMI lookup would fall back to
  a name pattern any Marketplace seller can publish, so the spec must give the code (or pin an
  AMI in every region). hacompile's table is `hacompile.plan.amis`.
- A product code on the community flavor would be silently ignored (its Ubuntu lookup is pinned
  to Canonical's account): refused, so nobody believes it filters anything.
- Flow logs to S3 need the bucket, and only S3 takes one; the bucket's partition must be the
  regions' partition, or AWS refuses the flow log at apply time.
Run from `hacompile.spec.rules.check`, reported with positions like every other rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hacompile.plan import amis
from hacompile.spec.model import Spec

if TYPE_CHECKING:
    from hacompile.spec.rules import Findings


def check(spec: Spec, found: Findings) -> None:
    _ami(spec, found)
    _flow_logs(spec, found)


def _ami(spec: Spec, found: Findings) -> None:
    lbs = spec.load_balancers
    if lbs.flavor == "community":
        if lbs.ami_product_code is not None:
            found.add(
                ("load_balancers", "ami_product_code"),
                "the community flavor boots Canonical's Ubuntu image (owner "
                f"{amis.CANONICAL_OWNER}), which has no Marketplace product code; "
                "remove ami_product_code or set flavor: hapee",
            )
        return
    unpinned = [r.name for r in spec.regions if r.ami_id is None]
    if not unpinned or amis.hapee_product_code(lbs.hapee_version, lbs.ami_product_code):
        return
    known = ", ".join(sorted(amis.HAPEE_PRODUCT_CODES)) or "none"
    found.add(
        ("load_balancers", "hapee_version"),
        f"hacompile does not know the AWS Marketplace product code of HAProxy Enterprise "
        f"{lbs.hapee_version} (it knows: {known}); without it the AMI lookup would "
        "accept an image of a matching name from any Marketplace seller. Set "
        "load_balancers.ami_product_code (subscribe, then `aws ec2 describe-images "
        "--image-ids AMI --query 'Images[].ProductCodes'`), or pin regions[].ami_id in "
        f"{', '.join(unpinned)}",
    )


def _flow_logs(spec: Spec, found: Findings) -> None:
    fl = spec.security.flow_logs
    at = ("security", "flow_logs")
    if fl.destination == "s3" and fl.s3_bucket_arn is None:
        found.add(
            (*at, "destination"),
            "flow logs to S3 need s3_bucket_arn: the ARN of a "
            "bucket you own, e.g. arn:aws:s3:::my-flow-logs",
        )
    if fl.destination != "s3" and fl.s3_bucket_arn is not None:
        found.add(
            (*at, "s3_bucket_arn"),
            f"s3_bucket_arn is used only with destination: s3 (destination is {fl.destination})",
        )
    if fl.s3_bucket_arn is not None:
        partition = fl.s3_bucket_arn.split(":")[1]
        for region in spec.regions:
            wanted = "aws-us-gov" if "-gov-" in region.name else "aws"
            if partition != wanted:
                found.add(
                    (*at, "s3_bucket_arn"),
                    f"the bucket is in partition {partition}, "
                    f"region {region.name} in {wanted}: flow logs cannot cross partitions",
                )
                break
