"""Address arithmetic shared by the rules (which check it) and the planner (which uses it).

Every private address in the bundle is chosen here, at compile time: the management IP and
EIP slots of each load balancer and the demo backends' IPs. Known addresses let hacompile write
the Keepalived unicast peers and the HAProxy servers without asking AWS, and make the output
identical on every run.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network

from hacompile.spec.model import RegionSpec

LB_BASE_OFFSET = 10  # .0-.3 and the last address belong to AWS; leave room for hand-made hosts
BACKEND_MIN_OFFSET = 100  # demo backends start at .100 when the load balancers leave room


def subnet_prefix(vpc: IPv4Network) -> int:
    """Default subnet size: /24 in a /20 or larger VPC, else 4 bits smaller than the VPC."""
    return 24 if vpc.prefixlen <= 20 else min(vpc.prefixlen + 4, 28)


def subnets(region: RegionSpec) -> tuple[IPv4Network, ...]:
    """One subnet per zone: the given one, or the (index+1)-th default-sized block of the VPC."""
    vpc = IPv4Network(region.vpc_cidr)
    carved = vpc.subnets(new_prefix=subnet_prefix(vpc))
    defaults = [next(carved, None) for _ in range(len(region.zones) + 1)][1:]
    out: list[IPv4Network] = []
    for zone, default in zip(region.zones, defaults, strict=True):
        if zone.subnet_cidr is not None:
            out.append(IPv4Network(zone.subnet_cidr))
        elif default is not None:
            out.append(default)
        else:
            out.append(vpc)  # too small to carve: the rules report it
    return tuple(out)


def lb_zone_index(lb_index: int, zones: int) -> int:
    """Load balancers are spread round-robin over the zones: lb1 in zone 0, lb2 in zone 1 ..."""
    return lb_index % zones


def taken(region: RegionSpec) -> frozenset[int]:
    """The addresses no pick may take, as integers: those the spec says are in use
    (regions[].taken) and the secondary-IP VIPs (regions[].vips), which move between the load
    balancers' interfaces."""
    vips = (v.address for v in region.vips if v.strategy == "secondary_ip")
    return frozenset(int(IPv4Address(a)) for a in (*region.taken, *vips))


def nth_free(subnet: IPv4Network, offset: int, used: frozenset[int] = frozenset()) -> IPv4Address:
    """The address `offset` places into `subnet`, counting only addresses not in `used`: with
    nothing taken it is simply network address + offset, so every spec without `taken` keeps
    its addresses, and a taken address shifts the picks after it by one."""
    if not used:
        return IPv4Address(int(subnet.network_address) + offset)
    count, candidate = -1, int(subnet.network_address) - 1
    while count < offset:  # bounded: offset + len(used) + 1 steps at most
        candidate += 1
        if candidate not in used:
            count += 1
    return IPv4Address(candidate)


def lb_addresses(
    subnet: IPv4Network,
    ordinal_in_subnet: int,
    eip_count: int,
    used: frozenset[int] = frozenset(),
) -> tuple[IPv4Address, tuple[IPv4Address, ...]]:
    """(management IP, EIP slot IPs) of the `ordinal`-th load balancer placed in `subnet`,
    skipping the addresses in `used`."""
    first = LB_BASE_OFFSET + ordinal_in_subnet * (eip_count + 1)
    primary = nth_free(subnet, first, used)
    slots = tuple(nth_free(subnet, first + 1 + i, used) for i in range(eip_count))
    return primary, slots


def backend_offset(lbs_per_subnet: int, eip_count: int) -> int:
    """First backend offset: after the LB blocks, at .100 or the next multiple of 16."""
    lb_end = LB_BASE_OFFSET + lbs_per_subnet * (eip_count + 1)
    return max(BACKEND_MIN_OFFSET, -(-lb_end // 16) * 16)


def backend_address(
    subnet: IPv4Network, offset: int, ordinal_in_subnet: int, used: frozenset[int] = frozenset()
) -> IPv4Address:
    return nth_free(subnet, offset + ordinal_in_subnet, used)


def usable_last(subnet: IPv4Network) -> IPv4Address:
    """AWS reserves the last address of every subnet (broadcast)."""
    return ipaddress.IPv4Address(int(subnet.broadcast_address) - 1)
