"""Cross-field rules of `regions[].vips` (hacompile.spec.vips): what AWS or Keepalived would
refuse, or what would fail over to nowhere.

- names are VRRP instance names: unique in the region and not `eipN` (the EIPs' instances);
- VRIDs continue after the EIPs' and must stay <= 255;
- a VIP has at least two holders (one is no failover), each an existing load balancer;
- route: the address lies outside every VPC CIDR of the spec (AWS routes a destination inside
  the VPC locally, never to an ENI) in private space (an overlay on a public address would hide
  that address from every client); route tables are named exactly when the VPC is an existing
  one (a VPC the bundle creates has one route table, its own);
- secondary_ip: every holder sits in one subnet (a subnet is one zone: that is the strategy's
  limit), the address is a usable one of it and no other host's, and each holder's interface
  has room for one more private IP.
"""

from __future__ import annotations

import re
from collections import Counter
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from hacompile.errors import Loc
from hacompile.spec import instances, network
from hacompile.spec.model import Spec
from hacompile.spec.types import PRIVATE_RANGES
from hacompile.spec.vips import VipSpec

if TYPE_CHECKING:
    from hacompile.spec.rules import Findings

EIP_INSTANCE = re.compile(r"^eip[0-9]+$")
# Private space an overlay may use: RFC 1918 and the shared address space of RFC 6598.
OVERLAY_RANGES = (*PRIVATE_RANGES, IPv4Network("100.64.0.0/10"))
AWS_RESERVED_LOW = 4  # .0 network, .1 router, .2 DNS, .3 reserved


def holders(spec: Spec, vip: VipSpec, index: int) -> tuple[int, ...]:
    """The indexes of the load balancers holding `vip`, owner first, then in takeover order:
    the listed ones, or all of them starting at the `index`-th (so VIPs spread over the LBs)."""
    n = spec.load_balancers.count
    if vip.load_balancers:
        return tuple(int(key[2:]) - 1 for key in vip.load_balancers)
    return tuple((index + k) % n for k in range(n))


def check(spec: Spec, found: Findings) -> None:
    cidrs = [IPv4Network(r.vpc_cidr) for r in spec.regions]
    for ri, region in enumerate(spec.regions):
        if not region.vips:
            continue
        at: Loc = ("regions", ri, "vips")
        n = spec.load_balancers.count
        last_vrid = spec.keepalived.vrid_base + n + len(region.vips) - 1
        if last_vrid > 255:
            found.add(
                at,
                f"the EIPs' and VIPs' VRRP instances need VRIDs {spec.keepalived.vrid_base}.."
                f"{last_vrid}, past 255: lower keepalived.vrid_base or use fewer VIPs",
            )
        names = Counter(v.name for v in region.vips)
        addresses = Counter(v.address for v in region.vips)
        for vi, vip in enumerate(region.vips):
            vat: Loc = (*at, vi)
            if names[vip.name] > 1:
                found.add((*vat, "name"), f"VIP {vip.name} is listed more than once")
            if EIP_INSTANCE.match(vip.name):
                found.add(
                    (*vat, "name"),
                    f"{vip.name} names an EIP's VRRP instance (eip1 ...); choose another name",
                )
            if addresses[vip.address] > 1:
                found.add((*vat, "address"), f"{vip.address} is given to more than one VIP")
            _holders(spec, found, vat, vip)
            if vip.strategy == "route":
                _route(spec, found, ri, vat, vip, cidrs)
            else:
                _secondary(spec, found, ri, vi, vat, vip)
        _eni_room(spec, found, ri)


def _holders(spec: Spec, found: Findings, at: Loc, vip: VipSpec) -> None:
    n = spec.load_balancers.count
    listed = vip.load_balancers
    if not listed:
        return
    for li, key in enumerate(listed):
        if int(key[2:]) > n:
            found.add((*at, "load_balancers", li), f"there is no {key}: the region has lb1..lb{n}")
    if len(set(listed)) != len(listed):
        found.add((*at, "load_balancers"), "a load balancer is listed more than once")
    elif len(listed) < 2:
        found.add(
            (*at, "load_balancers"),
            "a VIP held by one load balancer has nowhere to fail over to: list at least two",
        )


def _route(
    spec: Spec, found: Findings, ri: int, at: Loc, vip: VipSpec, cidrs: list[IPv4Network]
) -> None:
    address = IPv4Address(vip.address)
    inside = [str(c) for c in cidrs if address in c]
    if inside:
        found.add(
            (*at, "address"),
            f"a route VIP must lie outside every VPC CIDR of the spec ({vip.address} is in "
            f"{', '.join(inside)}): AWS delivers addresses inside a VPC locally and never "
            "through a route to an interface; pick an overlay address such as 172.31.255.10 "
            "outside them, or use strategy: secondary_ip",
        )
    elif not any(address in r for r in OVERLAY_RANGES):
        found.add(
            (*at, "address"),
            f"{vip.address} is not private address space: an overlay on it would hide that "
            "address from every client using the route tables; use RFC 1918 or 100.64.0.0/10",
        )
    region = spec.regions[ri]
    if region.vpc_id is None and vip.route_tables:
        found.add(
            (*at, "route_tables"),
            "the bundle creates this VPC and its one route table, which carries the VIP: "
            "omit route_tables (existing tables belong to an existing VPC, regions[].vpc_id)",
        )
    if region.vpc_id is not None and not vip.route_tables:
        found.add(
            (*at, "route_tables"),
            f"in an existing VPC ({region.vpc_id}) name the route tables of the clients' "
            "subnets: the VIP is reachable only from subnets whose table routes it",
        )
    if len(set(vip.route_tables)) != len(vip.route_tables):
        found.add((*at, "route_tables"), "a route table is listed more than once")


def _secondary(spec: Spec, found: Findings, ri: int, vi: int, at: Loc, vip: VipSpec) -> None:
    region = spec.regions[ri]
    if vip.route_tables:
        found.add(
            (*at, "route_tables"),
            "a secondary_ip VIP is moved by reassigning the address, not by routes: omit "
            "route_tables (or use strategy: route)",
        )
    zones = len(region.zones)
    held = holders(spec, vip, vi)
    zone_of = {k: network.lb_zone_index(k, zones) for k in held}
    if len(set(zone_of.values())) > 1:
        where = ", ".join(
            f"lb{k + 1} in {region.zones[z].name}" for k, z in sorted(zone_of.items())
        )
        same = _same_zone_sets(spec.load_balancers.count, zones)
        found.add(
            (*at, "load_balancers") if vip.load_balancers else at,
            f"a secondary private IP belongs to one subnet, and a subnet to one availability "
            f"zone, so every load balancer holding it must share that subnet; here {where}. "
            + (f"List the load balancers of one zone ({same}), or u" if same else "U")
            + "se strategy: route for a VIP that fails over across zones",
        )
        return
    subnet = network.subnets(region)[next(iter(zone_of.values()))]
    address = IPv4Address(vip.address)
    offset = int(address) - int(subnet.network_address)
    if address not in subnet:
        found.add(
            (*at, "address"),
            f"{vip.address} is not in {subnet}, the subnet of its load balancers",
        )
    elif offset < AWS_RESERVED_LOW or address > network.usable_last(subnet):
        found.add((*at, "address"), f"{vip.address} is reserved by AWS in {subnet}")
    elif vip.address in region.taken:
        found.add(
            (*at, "address"), f"{vip.address} is listed as taken: another host already has it"
        )
    elif vip.address in {b.address for b in region.backends}:
        found.add((*at, "address"), f"{vip.address} is an existing backend's address")


def _eni_room(spec: Spec, found: Findings, ri: int) -> None:
    """Each secondary VIP is one more private IP on every holder's interface: report each load
    balancer once, at the VIP that takes it past the instance type's limit."""
    lbs = spec.load_balancers
    limit = instances.ipv4_limit(lbs.instance_type, lbs.ipv4_per_eni)
    if limit is None:
        return  # hacompile.spec.rules reports the unknown limit
    used = dict.fromkeys(range(lbs.count), lbs.count + 1)  # management + one slot per EIP
    for vi, vip in enumerate(spec.regions[ri].vips):
        if vip.strategy != "secondary_ip":
            continue
        for k in holders(spec, vip, vi):
            if k not in used:
                continue  # not a load balancer: reported by _holders
            used[k] += 1
            if used[k] == limit + 1:
                found.add(
                    ("regions", ri, "vips", vi),
                    f"with this VIP lb{k + 1} needs {used[k]} private IPv4 addresses (1 "
                    f"management, {lbs.count} EIP slots, {used[k] - lbs.count - 1} secondary "
                    f"VIPs), but {lbs.instance_type} allows {limit} per interface: use fewer "
                    "secondary VIPs on it or a larger instance type",
                )


def _same_zone_sets(count: int, zones: int) -> str:
    """The load balancers sharing a zone, e.g. "lb1 and lb3": what such a VIP could list."""
    groups = [
        [f"lb{k + 1}" for k in range(count) if network.lb_zone_index(k, zones) == z]
        for z in range(zones)
    ]
    return "; ".join(" and ".join(g) for g in groups if len(g) >= 2)
