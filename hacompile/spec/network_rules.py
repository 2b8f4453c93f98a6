"""Cross-field rules of a region's network when it is an existing VPC (regions[].vpc_id).

An existing VPC names a subnet for every zone, with its CIDR (the compiler fixes addresses in
it, and the plan checks it against the account); a new VPC names no existing subnet and takes
no existing security group (they could not be in a VPC that does not exist yet). The subnet
CIDRs themselves are checked by hacompile.spec.rules like any other subnet (inside the VPC,
no overlap, room for the load balancers).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from hacompile.errors import Loc
from hacompile.spec.model import Spec

if TYPE_CHECKING:
    from hacompile.spec.rules import Findings


def _duplicates(values: Iterable[object]) -> set[object]:
    return {v for v, n in Counter(values).items() if n > 1}


def existing_network(spec: Spec, found: Findings, ri: int) -> None:
    """An existing VPC names a subnet for every zone (with its CIDR); a new one names none."""
    region = spec.regions[ri]
    at: Loc = ("regions", ri)
    if region.vpc_id is None:
        if region.taken:
            found.add(
                (*at, "taken"),
                "addresses in use belong to an existing VPC's subnets: set vpc_id too "
                "(a new VPC has none)",
            )
        if region.security_groups:
            found.add(
                (*at, "security_groups"),
                "existing security groups belong to an existing VPC: set vpc_id too",
            )
        for zi, zone in enumerate(region.zones):
            if zone.subnet_id is not None:
                found.add(
                    (*at, "zones", zi, "subnet_id"),
                    "an existing subnet needs its existing VPC: set vpc_id on the region "
                    "(without it the bundle creates the VPC and its subnets)",
                )
        return
    ids = _duplicates(z.subnet_id for z in region.zones if z.subnet_id)
    for zi, zone in enumerate(region.zones):
        zat: Loc = (*at, "zones", zi)
        if zone.subnet_id is None or zone.subnet_cidr is None:
            found.add(
                zat,
                f"in an existing VPC ({region.vpc_id}) zone {zone.name} names its subnet: "
                "subnet_id and subnet_cidr (the compiler fixes addresses in it)",
            )
        elif zone.subnet_id in ids:
            found.add((*zat, "subnet_id"), f"subnet {zone.subnet_id} is listed more than once")
    nets = [IPv4Network(z.subnet_cidr) for z in region.zones if z.subnet_cidr]
    for ti, text in enumerate(region.taken):
        address = IPv4Address(text)
        if not any(address in net for net in nets):
            found.add(
                (*at, "taken", ti),
                f"{address} is in no subnet of {region.name} ({', '.join(map(str, nets))})",
            )
    for gi in sorted(
        i for i, g in enumerate(region.security_groups) if g in _duplicates(region.security_groups)
    ):
        found.add((*at, "security_groups", gi), "security group listed more than once")
