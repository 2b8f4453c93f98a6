"""The EIP-script checker's private VIPs (spec regions[].vips): the claim, fed the VIP env files
Ansible renders, moves each VIP's route or secondary IP on moto, holder by holder.

Why apart from hacompile.verify.eipcheck: a VIP moves other EC2 state than an EIP (a route
table's VIP/32 route, or a secondary private IP of the subnet), created and checked with other
calls, so its scenarios are their own. What Terraform would create is created here first: the
bundle's own route table (its ID is the stand-in for the module's `hacompile_route_table_id`
output, which the region's env files then name), one table per existing table the spec names
(moto cannot create a table with a given ID, so those IDs are mapped to the tables created here
and the ROUTE_TABLES line of the rendered file is rewritten to them: the one substitution
made), and per (route VIP, table) the VIP/32 route to the owner's interface, as the module's
`aws_route` does once. A secondary_ip VIP has no resource: its owner's first claim assigns it.
Then every holder claims it in turn (MASTER first), the EC2 state must point at that holder's
ENI, and a second run of the last holder must write nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hacompile.standins.ansible_render import RenderedLb
from hacompile.standins.inventory import LbHost, VrrpInstance
from hacompile.verify.base import Context
from hacompile.verify.claimrig import ClaimRig, Region, VipTables, claim_order

__all__ = ["address_findings", "create_vip_state", "rewrite_tables", "vip_job", "vip_moves"]

# The EC2 writes of each strategy: none may happen on a claim that finds the VIP in place.
WRITES = {
    "route": ("ReplaceRoute", "CreateRoute"),
    "secondary_ip": ("AssignPrivateIpAddresses", "UnassignPrivateIpAddresses"),
}


def _vip_instances(lbs: tuple[LbHost, ...]) -> dict[str, tuple[LbHost, VrrpInstance]]:
    """VIP name -> (its owner, the owner's instance of it)."""
    out = {}
    for lb in lbs:
        for i in lb.instances:
            if i.strategy != "eip" and i.master:
                out[i.name] = (lb, i)
    return out


def create_vip_state(
    ec2: Any, vpc: str, lbs: tuple[LbHost, ...], enis: Mapping[str, str]
) -> VipTables:
    """What Terraform creates for the region's route VIPs; `enis` maps host -> ENI ID."""
    owners = _vip_instances(lbs)
    routed = [(lb, i) for lb, i in owners.values() if i.strategy == "route"]
    if not routed:
        return VipTables()

    def table() -> str:
        return str(ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"])

    own = table() if any(i.own_route_table for _, i in routed) else ""
    named = {rtb: table() for _, i in routed for rtb in sorted(set(i.route_tables))}
    for lb, i in routed:
        for rtb in (*(named[t] for t in i.route_tables), *([own] if i.own_route_table else [])):
            ec2.create_route(
                RouteTableId=rtb,
                DestinationCidrBlock=f"{i.address}/32",
                NetworkInterfaceId=enis[lb.host],
            )
    return VipTables(own, named)


def rewrite_tables(text: str, tables: VipTables) -> str:
    """`text` (a rendered env file) with the spec's route table IDs replaced by moto's."""
    named = tables.named or {}
    if not named:
        return text

    def swap(m: re.Match[str]) -> str:
        return "ROUTE_TABLES='" + " ".join(named.get(t, t) for t in m[1].split(" ")) + "'"

    return re.sub(r"^ROUTE_TABLES='([^']*)'$", swap, text, flags=re.MULTILINE)


def _tables_of(instance: VrrpInstance, tables: VipTables) -> list[str]:
    named = tables.named or {}
    return [named[t] for t in instance.route_tables] + (
        [tables.own] if instance.own_route_table else []
    )


def _where_is(ec2: Any, instance: VrrpInstance, tables: VipTables, eni: str) -> list[str]:
    """What is wrong with `instance`'s EC2 state for it to be on `eni` ([] when it is)."""
    if instance.strategy == "route":
        wanted = _tables_of(instance, tables)
        got = ec2.describe_route_tables(RouteTableIds=wanted)["RouteTables"]
        wrong = []
        for t in got:
            dest = [
                r for r in t["Routes"] if r.get("DestinationCidrBlock") == f"{instance.address}/32"
            ]
            target = str(dest[0].get("NetworkInterfaceId")) if dest else "no route"
            if target != eni:
                wrong.append(f"{t['RouteTableId']}: {instance.address}/32 -> {target}")
        return wrong
    found = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"]
    listed = {p["PrivateIpAddress"] for e in found for p in e["PrivateIpAddresses"]}
    return [] if instance.address in listed else [f"{instance.address} not assigned to {eni}"]


# claim(lb, text of the env file) -> (exit code, log)
Claim = Callable[[RenderedLb, str], tuple[int, str]]


def vip_moves(
    ec2: Any,
    order: list[RenderedLb],
    name: str,
    tables: VipTables,
    enis: Mapping[str, str],
    claim: Claim,
    writes: Callable[[tuple[str, ...]], int],
    clear: Callable[[], None],
) -> list[str]:
    """Every holder of VIP `name` claims it in turn (`order`: MASTER first); then a no-op re-run.

    `writes(actions)` counts the proxy's recorded calls of those actions since `clear()`.
    """
    found = []
    for lb in order:
        instance = next(i for i in lb.lb.instances if i.name == name)
        where = f"{lb.lb.region}/{lb.lb.host}/{name} ({instance.strategy})"
        text = rewrite_tables(lb.eip_env[name].read_text(encoding="utf-8"), tables)
        eni = enis[lb.lb.host]
        clear()
        rc, log = claim(lb, text)
        wrong = _where_is(ec2, instance, tables, eni)
        if rc != 0 or wrong:
            tail = " | ".join(log.strip().splitlines()[-3:])
            found.append(f"{where}: claim exited {rc}, expected on {eni}: {wrong}: {tail}")
            continue
        if lb is order[-1]:
            clear()
            rc, log = claim(lb, text)
            count = writes(WRITES[instance.strategy])
            if rc != 0 or count:
                found.append(
                    f"{where}: second run exited {rc} with {count} write(s); expected a no-op"
                )
    return found


_INSTANCE = re.compile(r"^vrrp_instance (\S+) \{\n(.*?)^\}$", re.MULTILINE | re.DOTALL)
_VIRTUAL = re.compile(r"^\s*virtual_ipaddress \{\n(.*?)^\s*\}$", re.MULTILINE | re.DOTALL)


def address_findings(label: str, conf_text: str, lb: LbHost, interface: str) -> list[str]:
    """The rendered keepalived.conf against the inventory: each private VIP's instance carries
    exactly `ADDRESS/32 dev INTERFACE` as its virtual address (keepalived adds it on MASTER),
    and no EIP instance carries any address but the VRRPv3 link-local placeholder on lo."""
    blocks = {m[1]: m[2] for m in _INSTANCE.finditer(conf_text)}
    found = []
    for i in lb.instances:
        body = blocks.get(i.name)
        if body is None:
            found.append(f"{label}: no vrrp_instance {i.name}")
            continue
        lines = [
            " ".join(ln.split())
            for block in _VIRTUAL.findall(body)
            for ln in block.splitlines()
            if ln.strip() and not ln.strip().startswith("#")
        ]
        if i.strategy != "eip":
            wanted = [f"{i.address}/32 dev {interface}"]
            if lines != wanted:
                found.append(
                    f"{label}: vrrp_instance {i.name}: virtual_ipaddress {lines}, expected {wanted}"
                )
        elif any(not (ln.startswith("169.254.253.") and ln.endswith(" dev lo")) for ln in lines):
            found.append(f"{label}: vrrp_instance {i.name} (an EIP) adds addresses {lines}")
    return found


def vip_job(ctx: Context, script: Path, aws: Path, region: Region, instance: str) -> list[str]:
    """Every holder of private VIP `instance` moves it in turn, through a proxy of its own."""
    from hacompile.standins.faultproxy import FaultProxy
    from hacompile.standins.moto import ec2_client

    with FaultProxy(region.url) as proxy:
        rig = ClaimRig(ctx, script, aws, proxy.url)

        def claim(lb: RenderedLb, text: str) -> tuple[int, str]:
            got = rig.run(lb, instance, region.name, region.imds[lb.lb.host], env_text=text)
            return got.rc, got.log

        return vip_moves(
            ec2_client(region.url, region.name),
            claim_order(region.lbs, instance),
            instance,
            region.tables,
            {host: eni.eni_id for host, eni in region.enis.items()},
            claim,
            lambda actions: sum(len(proxy.calls(a)) for a in actions),
            proxy.clear,
        )
