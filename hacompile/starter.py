"""`hacompile init`: a commented starter spec that validates and builds as it is.

The numbers are chosen so that the failover proof passes with no warning for any load balancer
count from 2 to 8 (a test checks every count and both flavors): priorities 110 / 100 stepping
down by 10 (neighbouring backups' takeover timers 39 ms apart: docs/failover.md, "Two backups,
one takeover"), HAProxy at weight 0 (its death puts the node in FAULT: a backup takes over in
about interval x fall seconds, without waiting out preempt_delay as a weighted check would),
sshd -15 (enough to move an EIP on its own, after preempt_delay; never a tie with the ladder's
10-point rungs), the gateway check FAULTs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from hacompile.spec import instances

FLAVORS = ("community", "hapee")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$")
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$")
_TYPES = ("t3.small", "t3.medium", "t3.large")


class StarterError(ValueError):
    """A value for the starter spec that hacompile would reject anyway."""


@dataclass(frozen=True)
class Choices:
    name: str = "web"
    region: str = "us-east-1"
    lbs: int = 2
    flavor: str = "community"

    def check(self) -> None:
        if not NAME_RE.match(self.name):
            raise StarterError(
                f"name {self.name!r}: lower-case letters, digits and '-', "
                "2 to 24 characters, starting with a letter"
            )
        if not REGION_RE.match(self.region):
            raise StarterError(
                f"region {self.region!r} is not an AWS region name such as us-east-1"
            )
        if not 2 <= self.lbs <= 8:
            raise StarterError(f"--lbs {self.lbs}: hacompile deploys 2 to 8 load balancers")
        if self.flavor not in FLAVORS:
            raise StarterError(f"flavor {self.flavor!r}: one of {', '.join(FLAVORS)}")


def instance_type(lbs: int) -> str:
    """The smallest burstable type with an address per EIP plus one on its ENI."""
    for name in _TYPES:
        known = instances.lookup(name)
        if known and known[0] >= lbs + 1:
            return name
    return _TYPES[-1]


# hacompile knows no Marketplace product code for the default HAPEE version (plan/amis.py), so
# the starter writes a placeholder that matches no image: the spec builds as it is, and
# `terraform plan` fails until the real code is filled in, instead of falling back to an image
# name any Marketplace seller can publish.
PLACEHOLDER_PRODUCT_CODE = "0" * 25


def _product_code(flavor: str) -> str:
    if flavor != "hapee":
        return ""
    return (
        "  # REPLACE with the product code of the HAProxy Enterprise product you subscribed\n"
        "  # to: aws ec2 describe-images --image-ids AMI --query 'Images[].ProductCodes'\n"
        f'  ami_product_code: "{PLACEHOLDER_PRODUCT_CODE}"\n'
    )


def render(c: Choices) -> str:
    c.check()
    process = "hapee-lb" if c.flavor == "hapee" else "haproxy"
    zones = f"[{c.region}a, {c.region}b]"
    flavor_note = (
        "HAProxy Enterprise Marketplace AMI (subscribe first)"
        if c.flavor == "hapee"
        else "community HAProxy on Ubuntu 24.04 LTS"
    )
    return f"""\
# hacompile spec, written by `hacompile init`. Build it with:
#   hacompile validate ha.yaml && hacompile explain ha.yaml && hacompile build ha.yaml -o out
# Editor completion: `hacompile schema > ha.schema.json`, then keep the next line.
# yaml-language-server: $schema=ha.schema.json
version: 1
name: {c.name}  # used in tags and host names: lower-case letters, digits, '-'

regions:
  - name: {c.region}
    vpc_cidr: 10.0.0.0/16  # private range; one /24 per zone is carved from it
    zones: {zones}  # check the zone names your account has

load_balancers:
  count: {c.lbs}  # each is MASTER of one Elastic IP and backs up the others
  instance_type: {instance_type(c.lbs)}  # needs count + 1 private IPs per network interface
  flavor: {c.flavor}  # {flavor_note}
{_product_code(c.flavor)}
backends:
  port: 80
  demo:  # demo web servers created by the bundle; or list yours under regions[].backends
    count: 2
    instance_type: t3.micro

haproxy:
  frontends:
    - {{name: http, port: 80}}

keepalived:
  advert_int: 1
  # Owner of an EIP at 110, backups at 100, 90, ... `hacompile explain` shows what follows.
  # A step under 6 leaves two backups' takeover timers under 20 ms apart: a busy backup can
  # then lose the takeover to the one below it.
  priority: {{master: 110, backup: 100, step: 10}}
  preempt_delay: 10  # seconds a recovered owner waits before it takes its EIP back
  checks:
    # Weight 0: the node goes to FAULT while it fails and gives up every EIP at once.
    # Positive weight: added while the check passes. Negative: subtracted while it fails;
    # a weighted check moves an EIP only after preempt_delay.
    - {{name: chk_haproxy, process: {process}, interval: 1, weight: 0, fall: 2, rise: 2}}
    - {{name: chk_sshd, process: sshd, interval: 5, weight: -15, fall: 2, rise: 1}}
    - {{name: chk_gw, gateway: true, interval: 2, weight: 0, fall: 2, rise: 2}}

access:
  ssh_key_name: {c.name}-admin  # an EC2 key pair that exists in {c.region}
  ssh_cidrs: [203.0.113.0/24]  # documentation range: replace with your admin network
"""


def write_starter(path: Path, choices: Choices, *, force: bool = False) -> None:
    """Write the starter spec to `path`, refusing an existing file unless `force`.

    Here and not in the CLI, which only prints and exits. Written beside `path` and renamed
    over it, so an interrupted `init --force` leaves the old spec whole. Raises StarterError
    (bad choices, existing file) or OSError."""
    text = render(choices)
    if path.exists() and not force:
        raise StarterError(f"{path} exists; use --force to overwrite it")
    tmp = path.with_name(f".{path.name}.hacompile-new")
    tmp.write_text(text)
    os.replace(tmp, path)
