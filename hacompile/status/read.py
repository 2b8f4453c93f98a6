"""Read one region's deployment from EC2: its EIPs, instances, interfaces and VIP routes.

Everything is found the way the bundle's Terraform marks it (templates/terraform/module):
- EIPs by the deployment tag, whose value is the region's name prefix followed by an ID only
  the Terraform state knows (iam.tf), and by `Name = <prefix><eip key>` (eips.tf);
- instances by `Name = <prefix><lb key>` and the cluster tag (a provider default tag; the
  deployment tag is not on instances, only on their primary interfaces: instances.tf);
- interfaces by the deployment tag, by the VPC (the spec's `vpc_id`, the instances' VPC, or
  the VPC the bundle tagged) and by the instances; an interface is mapped to a load balancer
  later by its primary private IP, which the plan fixed. That still works when an instance is
  gone but its interface is not (the lab makes interfaces without instances);
- route tables: the spec's `route_tables`, or the bundle's own, by its Name and cluster tag.

The client is any boto3 EC2 client (or one that answers the same calls).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hacompile.plan.model import Plan, Region
from hacompile.status.model import Address, Eni, Facts, Instance, Route

__all__ = ["read_region"]

# which instance of an LB's name counts when there are several: the most alive
_STATE_ORDER = ("running", "pending", "stopping", "stopped", "shutting-down", "terminated")


def _tags(item: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags", item.get("TagSet", [])) or []}


def _pages(ec2: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in ec2.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


def _filters(name: str, values: Sequence[str]) -> list[dict[str, Any]]:
    return [{"Name": name, "Values": list(values)}]


def read_region(ec2: Any, plan: Plan, region: Region) -> Facts:
    prefix = region.names.prefix
    key = plan.deployment_tag_key
    cluster = [{"Name": f"tag:{plan.cluster_tag_key}", "Values": [plan.name]}]
    addresses = _addresses(ec2, key, prefix)
    instances, instance_vpcs = _instances(ec2, region, cluster)
    vpcs = _vpcs(ec2, region, cluster, instance_vpcs)
    enis = _enis(ec2, key, prefix, vpcs, instances, addresses)
    tables, own, routes = _tables(ec2, region, cluster, vpcs)
    return Facts(addresses, instances, enis, tables, routes, own)


def _addresses(ec2: Any, key: str, prefix: str) -> tuple[Address, ...]:
    got = ec2.describe_addresses(Filters=_filters("tag-key", [key]))["Addresses"]
    out = []
    for a in got:
        tags = _tags(a)
        if not tags.get(key, "").startswith(prefix):
            continue  # another deployment's (another cluster, region or name)
        out.append(
            Address(
                allocation_id=a.get("AllocationId", ""),
                public_ip=a.get("PublicIp", ""),
                name=tags.get("Name", ""),
                deployment=tags[key],
                eni_id=a.get("NetworkInterfaceId") or "",
                instance_id=a.get("InstanceId") or "",
            )
        )
    return tuple(sorted(out))


def _instances(
    ec2: Any, region: Region, cluster: list[dict[str, Any]]
) -> tuple[tuple[Instance, ...], set[str]]:
    names = [f"{region.names.prefix}{lb.key}" for lb in region.load_balancers]
    found: list[Instance] = []
    vpcs: set[str] = set()
    filters = [*_filters("tag:Name", names), *cluster]
    for reservation in _pages(ec2, "describe_instances", "Reservations", Filters=filters):
        for i in reservation.get("Instances", []):
            primary = [
                n
                for n in i.get("NetworkInterfaces", [])
                if n.get("Attachment", {}).get("DeviceIndex", 0) == 0
            ]
            state = i.get("State", {}).get("Name", "")
            found.append(
                Instance(
                    id=i["InstanceId"],
                    name=_tags(i).get("Name", ""),
                    state=state,
                    eni_id=primary[0]["NetworkInterfaceId"] if primary else "",
                )
            )
            if i.get("VpcId") and state != "terminated":
                vpcs.add(i["VpcId"])
    return tuple(sorted(found, key=_liveliness)), vpcs


def _liveliness(i: Instance) -> tuple[int, str]:
    order = _STATE_ORDER.index(i.state) if i.state in _STATE_ORDER else len(_STATE_ORDER)
    return order, i.id


def _vpcs(
    ec2: Any, region: Region, cluster: list[dict[str, Any]], from_instances: set[str]
) -> tuple[str, ...]:
    if region.vpc_id:
        return (region.vpc_id,)
    tagged = ec2.describe_vpcs(Filters=[*_filters("tag:Name", [region.names.vpc]), *cluster])
    return tuple(sorted(from_instances | {v["VpcId"] for v in tagged.get("Vpcs", [])}))


def _enis(
    ec2: Any,
    key: str,
    prefix: str,
    vpcs: Sequence[str],
    instances: Iterable[Instance],
    addresses: Iterable[Address],
) -> tuple[Eni, ...]:
    """Our interfaces (tagged, in our VPC, or an instance's), then any other an EIP is at."""
    mine = {i.id for i in instances}
    seen: dict[str, Eni] = {}

    def add(items: Iterable[dict[str, Any]]) -> None:
        for n in items:
            instance = (n.get("Attachment") or {}).get("InstanceId", "") or ""
            ours = (
                _tags(n).get(key, "").startswith(prefix)
                or n.get("VpcId", "") in vpcs
                or instance in mine
            )
            seen[n["NetworkInterfaceId"]] = Eni(
                id=n["NetworkInterfaceId"],
                primary_ip=n.get("PrivateIpAddress", ""),
                ips=tuple(a["PrivateIpAddress"] for a in n.get("PrivateIpAddresses", [])),
                vpc_id=n.get("VpcId", ""),
                instance_id=instance,
                ours=ours,
            )

    op, out = "describe_network_interfaces", "NetworkInterfaces"
    add(_pages(ec2, op, out, Filters=_filters("tag-key", [key])))
    seen = {k: v for k, v in seen.items() if v.ours}  # not another deployment's
    if vpcs:
        add(_pages(ec2, op, out, Filters=_filters("vpc-id", vpcs)))
    wanted = {i.eni_id for i in instances if i.eni_id} | {a.eni_id for a in addresses if a.eni_id}
    missing = sorted(wanted - set(seen))
    if missing:
        add(_pages(ec2, op, out, Filters=_filters("network-interface-id", missing)))
    return tuple(sorted(seen.values()))


def _tables(
    ec2: Any, region: Region, cluster: list[dict[str, Any]], vpcs: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Route, ...]]:
    """The route tables the region's route VIPs use: every one that exists, the bundle's own
    ones, and their /32 routes."""
    route = [v for v in region.vips if v.strategy == "route"]
    named = sorted({t for v in route for t in v.route_tables})
    found: dict[str, dict[str, Any]] = {}
    own: tuple[str, ...] = ()
    op, out = "describe_route_tables", "RouteTables"
    if any(v.own_route_table for v in route):
        filters = [*_filters("tag:Name", [region.names.route_table]), *cluster]
        if vpcs:
            filters += _filters("vpc-id", vpcs)
        got = _pages(ec2, op, out, Filters=filters)
        found.update((t["RouteTableId"], t) for t in got)
        own = tuple(sorted(t["RouteTableId"] for t in got))
    if named:  # by filter: a table that is gone is drift, not an error
        got = _pages(ec2, op, out, Filters=_filters("route-table-id", named))
        found.update((t["RouteTableId"], t) for t in got)
    routes = tuple(
        Route(
            table_id=t["RouteTableId"],
            destination=r.get("DestinationCidrBlock", ""),
            eni_id=r.get("NetworkInterfaceId", "") or "",
            instance_id=r.get("InstanceId", "") or "",
            state=r.get("State", "active"),
        )
        for t in found.values()
        for r in t.get("Routes", [])
        if r.get("DestinationCidrBlock", "").endswith("/32")
    )
    return tuple(sorted(found)), own, routes
