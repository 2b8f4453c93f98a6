"""Which image the load balancers boot: the AMI lookups the bundle may do, as data.

Why product codes: `owners = ["aws-marketplace"]` admits every Marketplace seller, and a name
pattern such as ``hapee-ubuntu-*-amd64-hvm-3.0*`` is something any of them can publish; with
`most_recent` the newest such image wins, and the load balancers hold the role that moves the
EIPs. A Marketplace product code belongs to one product of one seller, so filtering by it (as
HAProxy Technologies' own blog did) leaves only HAProxy Technologies' images of that product.

Each code below states where it comes from. hacompile lists only codes it has a source for;
for any other `hapee_version` the spec must give `load_balancers.ami_product_code` (or pin
`regions[].ami_id` in every region), and `hacompile validate` says so with a located error.
To find a code: subscribe to the product, take the AMI ID from its launch page and run
``aws ec2 describe-images --image-ids AMI --query 'Images[].ProductCodes'``.

The community flavor's Ubuntu lookup is pinned to Canonical's own account (099720109477), which
only Canonical can publish from; it needs no product code.
"""

from __future__ import annotations

from hacompile.record import Record

CANONICAL_OWNER = "099720109477"
MARKETPLACE_OWNER = "aws-marketplace"
# Canonical's Ubuntu 24.04 server images on gp3, by architecture (amd64, arm64; "*" for any).
UBUNTU_NOBLE_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{arch}-server-*"


def ubuntu_noble_name(arch: str) -> str:
    """The `name` filter of an Ubuntu 24.04 lookup (owner CANONICAL_OWNER)."""
    return UBUNTU_NOBLE_NAME.format(arch=arch)


class ProductCode(Record):
    code: str
    source: str


# keyed by load_balancers.hapee_version
HAPEE_PRODUCT_CODES: dict[str, ProductCode] = {
    "1.8": ProductCode(
        "483gxnuft87jy44d3q8n4kvt1",
        'HAProxy Technologies, "HAProxy on AWS: Best Practices Part 3" (2019), the aws_ami '
        "filter of haproxytech/cloud-blueprints aws_keepalived (HAPEE 1.8, Ubuntu Bionic); "
        "the same code filters HAPEE 1.8 on Xenial in Part 2",
    ),
}


def hapee_product_code(version: str, override: str | None) -> str:
    """The product code to filter by: the spec's override, else the table's; "" if neither."""
    if override:
        return override
    known = HAPEE_PRODUCT_CODES.get(version)
    return known.code if known else ""
