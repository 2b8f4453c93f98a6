"""Plan a region's private VIPs (spec regions[].vips): owners, VRIDs, priorities, route tables.

The same decisions as the EIPs' (hacompile.plan.build), over each VIP's holders instead of all
load balancers: the first holder is MASTER at `priority.master`, the others back it up in the
listed (or rotation) order at `backup`, `backup - step`, ...; VRIDs continue after the EIPs'.
A load balancer that does not hold a VIP has no instance for it, so it never adds the address.
"""

from __future__ import annotations

from hacompile.plan import model as p
from hacompile.spec import network, vip_rules
from hacompile.spec.model import Spec


def vips(spec: Spec, index: int, subnets: tuple[p.Subnet, ...]) -> tuple[p.Vip, ...]:
    region = spec.regions[index]
    n = spec.load_balancers.count
    out = []
    for vi, vip in enumerate(region.vips):
        held = vip_rules.holders(spec, vip, vi)
        out.append(
            p.Vip(
                name=vip.name,
                strategy=vip.strategy,
                address=vip.address,
                vrid=spec.keepalived.vrid_base + n + vi,
                master=f"lb{held[0] + 1}",
                holders=tuple(f"lb{k + 1}" for k in held),
                route_tables=tuple(vip.route_tables),
                own_route_table=vip.strategy == "route" and not vip.route_tables,
                subnet_key=subnets[network.lb_zone_index(held[0], len(subnets))].key
                if vip.strategy == "secondary_ip"
                else "",
            )
        )
    return tuple(out)


def instances(spec: Spec, lb: str, planned: tuple[p.Vip, ...]) -> tuple[p.VrrpInstance, ...]:
    """Load balancer `lb`'s side of every VIP it holds."""
    ladder = spec.keepalived.priority
    out = []
    for vip in planned:
        if lb not in vip.holders:
            continue
        rank = vip.holders.index(lb)  # 0: the owner; 1: first to take over
        out.append(
            p.VrrpInstance(
                name=vip.name,
                vrid=vip.vrid,
                priority=ladder.master if rank == 0 else ladder.backup - ladder.step * (rank - 1),
                master=rank == 0,
                slot_ip="",
                strategy=vip.strategy,
                address=vip.address,
            )
        )
    return tuple(out)
