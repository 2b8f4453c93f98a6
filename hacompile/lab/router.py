"""The VPC router follows EC2 for private VIPs, as the edge follows EIP associations.

Why: a private VIP is reachable because EC2 says where it goes, not because a gratuitous ARP
reached a segment. A route VIP (an overlay /32 outside the VPC) goes wherever the VPC's route
table sends it: the ENI its VIP/32 route targets. A secondary-IP VIP goes to the ENI it is
assigned to. The lab's bridge namespace is the VPC router (every subnet's ".1"), so for each
VIP it holds one /32 route via the primary IP of the ENI EC2 names, or a blackhole route while
EC2 names none; the VPC client sits in a subnet of its own and reaches every VIP through it.

moto 5.2.1 keeps listing a reassigned secondary IP on its old ENI too (real EC2 moves it), so
the holder of a secondary-IP VIP is the ENI of the last AssignPrivateIpAddresses the fault
proxy forwarded for that address, once moto lists the address there (the call took effect;
until then the VIP stays where it was); as the edge takes an EIP's slot from the last
AssociateAddress. And since a claim that finds its address still listed on its own ENI does
nothing (idempotence), the old holder's claim would never move the VIP back: so before the
proxy forwards a reassignment, `release_elsewhere` removes the address from the region's other
ENIs in moto, directly (not a call the lab counts), which is what EC2's --allow-reassignment
does.

`holders` reads EC2 (any boto3 client) and the proxy's requests and says which LB holds each
VIP; `Router` turns that into `ip route` commands in the router namespace. The cloud host
(hacompile.lab.cloud) runs both in its sync loop, woken by every call below.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from hacompile.standins.faultproxy import ProxiedRequest

__all__ = ["VIP_ACTIONS", "Router", "holders", "release_elsewhere", "route_args", "seed_routes"]

# The calls that move a private VIP in EC2: the sync looks again at once after each.
VIP_ACTIONS = ("ReplaceRoute", "CreateRoute", "DeleteRoute", "AssignPrivateIpAddresses")


def seed_routes(
    ec2: Any,
    vpc: str,
    subnets: Iterable[str],
    vips: Sequence[Mapping[str, Any]],
    enis: Any,
    table_tags: Mapping[str, Any] | None = None,
) -> dict[str, list[str]]:
    """What the bundle's Terraform makes for the VIPs: for route VIPs, its own route table
    (aws_route_table.public: associated with the subnets, 0.0.0.0/0 to an internet gateway)
    with one VIP/32 route per VIP to the owner's ENI (aws_route, created once), and source/
    destination checking off on every LB; for secondary-IP VIPs nothing (the owner's claim
    assigns the address on its first MASTER). `table_tags`: create_route_table's
    TagSpecifications, as the bundle tags its table (hacompile.lab.cloud.seed). Returns VIP
    key -> the route tables it uses."""
    route = [v for v in vips if v["strategy"] == "route"]
    if not route:
        return {}
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc, **(table_tags or {}))["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for subnet in subnets:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    for eni in enis.values():
        ec2.modify_network_interface_attribute(
            NetworkInterfaceId=eni["eni_id"], SourceDestCheck={"Value": False}
        )
    for vip in route:
        ec2.create_route(
            RouteTableId=table,
            DestinationCidrBlock=f"{vip['address']}/32",
            NetworkInterfaceId=enis[vip["owner"]]["eni_id"],
        )
    return {v["key"]: [table] for v in route}


def _assigned(req: ProxiedRequest) -> list[str]:
    """The addresses one AssignPrivateIpAddresses asked for (PrivateIpAddress.N)."""
    return [v for k, v in req.params.items() if k.startswith("PrivateIpAddress.")]


def holders(
    ec2: Any,
    vips: Sequence[Mapping[str, Any]],
    tables: Mapping[str, Sequence[str]],
    eni_lb: Mapping[str, str],
    requests: Sequence[ProxiedRequest],
) -> dict[str, str]:
    """VIP key -> the LB whose ENI EC2 sends it to now ('' = nowhere, or an ENI of no LB).

    route: the target of the VIP/32 route in the first of the VIP's route tables (the one the
    lab's subnets are associated with). secondary_ip: the ENI of the last forwarded
    AssignPrivateIpAddresses naming the address ('' before any); a VIP whose last call moto
    does not show yet (in flight, or rejected) is left out: it stays where it was."""
    out: dict[str, str] = {}
    wanted = sorted({t for v in vips for t in tables.get(v["key"], [])[:1]})
    routes: dict[tuple[str, str], str] = {}  # (table, destination) -> ENI
    if wanted:
        for rt in ec2.describe_route_tables(RouteTableIds=wanted)["RouteTables"]:
            for r in rt.get("Routes", []):
                if r.get("DestinationCidrBlock") and r.get("State", "active") == "active":
                    key = (rt["RouteTableId"], r["DestinationCidrBlock"])
                    routes[key] = r.get("NetworkInterfaceId", "")
    listed: dict[str, set[str]] = {}  # ENI -> its private IPs, as moto lists them
    if any(v["strategy"] == "secondary_ip" for v in vips):
        got = ec2.describe_network_interfaces(NetworkInterfaceIds=sorted(eni_lb))
        for eni in got["NetworkInterfaces"]:
            listed[eni["NetworkInterfaceId"]] = {
                a["PrivateIpAddress"] for a in eni.get("PrivateIpAddresses", [])
            }
    for vip in vips:
        target = ""
        if vip["strategy"] == "route":
            first = tables.get(vip["key"], [])[:1]
            target = routes.get((first[0], f"{vip['address']}/32"), "") if first else ""
        else:
            last = next(
                (
                    r.params.get("NetworkInterfaceId", "")
                    for r in reversed(requests)
                    if r.action == "AssignPrivateIpAddresses"
                    and r.failed_with is None
                    and vip["address"] in _assigned(r)
                ),
                None,
            )
            if last is not None and vip["address"] not in listed.get(last, set()):
                continue  # not in effect (yet): the VIP stays where it was
            target = last or ""
        out[vip["key"]] = eni_lb.get(target, "")
    return out


def release_elsewhere(ec2: Any, params: Mapping[str, str], enis: Iterable[str]) -> list[str]:
    """Before a forwarded AssignPrivateIpAddresses with AllowReassignment: remove its addresses
    from every other ENI of `enis` in moto, as EC2 moves them; returns the ENIs released."""
    if params.get("AllowReassignment", "").lower() != "true":
        return []
    target = params.get("NetworkInterfaceId", "")
    wanted = {v for k, v in params.items() if k.startswith("PrivateIpAddress.")}
    others = sorted(set(enis) - {target})
    if not wanted or not others:
        return []
    released = []
    got = ec2.describe_network_interfaces(NetworkInterfaceIds=others)["NetworkInterfaces"]
    for eni in got:
        held = {a["PrivateIpAddress"] for a in eni.get("PrivateIpAddresses", [])} & wanted
        if held:
            ec2.unassign_private_ip_addresses(
                NetworkInterfaceId=eni["NetworkInterfaceId"], PrivateIpAddresses=sorted(held)
            )
            released.append(eni["NetworkInterfaceId"])
    return released


def route_args(ns: str, address: str, via: str) -> list[str]:
    """The command that points `address`/32 at `via` in namespace `ns` (blackhole if '')."""
    if via:
        return ["ip", "-n", ns, "route", "replace", f"{address}/32", "via", via]
    return ["ip", "-n", ns, "route", "replace", "blackhole", f"{address}/32"]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, timeout=10, capture_output=True, text=True)


class Router:
    """The router namespace's VIP routes, changed only when the holder changes."""

    def __init__(
        self,
        ns: str,
        addresses: Mapping[str, str],
        lb_ips: Mapping[str, str],
        run: Callable[[list[str]], None] = _run,
    ) -> None:
        self.ns, self.addresses, self.lb_ips, self.run = ns, addresses, lb_ips, run
        self.current: dict[str, str] = {}  # VIP key -> LB key ('' = blackhole)

    def follow(self, wanted: Mapping[str, str]) -> list[tuple[str, str, str]]:
        """Point every VIP whose holder changed at its new holder's primary IP; returns the
        moves made as (VIP key, LB key, next hop)."""
        moved = []
        for key, lb in wanted.items():
            if self.current.get(key) == lb:
                continue
            via = self.lb_ips.get(lb, "")
            self.run(route_args(self.ns, self.addresses[key], via))
            self.current[key] = lb
            moved.append((key, lb, via))
        return moved
