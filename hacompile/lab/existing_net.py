"""The "existing" network of a bring-your-own-network spec, made in the lab's moto the way a
user's account has it, and the account described back for the lab's checks.

Why the lab makes it first: a spec with `vpc_id` names a VPC, subnets and security groups the
bundle must not create, and addresses (`taken`) other hosts already hold. The lab's cloud
creates exactly that before the spec is compiled — the VPC (the spec's `vpc_cidr`), one subnet
per zone in its zone, an internet gateway with a route table sending 0.0.0.0/0 to it associated
with the subnets (an EIP only works there), the security groups, and one interface holding each
taken address — so the load balancers' interfaces then go into a network that really is
occupied. moto picks the IDs; the controller compiles a copy of the spec with them
(hacompile.lab.byo). Runs in the cloud host (hacompile.lab.cloud), against moto directly.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

__all__ = ["create", "describe"]


def create(ec2: Any, cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Create the network `cfg` describes (hacompile.lab.byo.Existing.cloud_config); return
    the IDs moto gave it: vpc_id, igw_id, route_table_id, subnets [{zone, cidr, subnet_id}],
    security_groups {the spec's ID: the created one}, taken {address: ENI ID}."""
    vpc = ec2.create_vpc(CidrBlock=cfg["vpc_cidr"])["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    subnets = []
    for sub in cfg["subnets"]:
        made = ec2.create_subnet(VpcId=vpc, CidrBlock=sub["cidr"], AvailabilityZone=sub["zone"])[
            "Subnet"
        ]["SubnetId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=made)
        subnets.append({"zone": sub["zone"], "cidr": sub["cidr"], "subnet_id": made})
    groups = {}
    for n, spec_id in enumerate(cfg["security_groups"], start=1):
        groups[spec_id] = ec2.create_security_group(
            GroupName=f"existing-{n}",
            Description=f"a group the account already has (the spec's {spec_id})",
            VpcId=vpc,
        )["GroupId"]
    taken = {}
    for address in cfg["taken"]:
        ip = ipaddress.ip_address(address)
        home = next(
            (s for s in subnets if ip in ipaddress.ip_network(s["cidr"])), None
        )  # the rules keep taken addresses inside a zone's subnet; skip one that is not
        if home is None:
            continue
        eni = ec2.create_network_interface(
            SubnetId=home["subnet_id"],
            PrivateIpAddress=address,
            Description="in use before hacompile (regions[].taken)",
        )["NetworkInterface"]["NetworkInterfaceId"]
        taken[address] = eni
    return {
        "vpc_id": vpc,
        "igw_id": igw,
        "route_table_id": table,
        "subnets": subnets,
        "security_groups": groups,
        "taken": taken,
    }


def describe(ec2: Any) -> dict[str, Any]:
    """The account as EC2 reports it: VPCs, subnets, interfaces (with every private IP and
    group), internet gateways and route tables; what hacompile.lab.byo.check_network reads."""
    vpcs = [
        {"id": v["VpcId"], "cidr": v["CidrBlock"], "default": bool(v.get("IsDefault"))}
        for v in ec2.describe_vpcs()["Vpcs"]
    ]
    subnets = [
        {
            "id": s["SubnetId"],
            "vpc": s["VpcId"],
            "cidr": s["CidrBlock"],
            "zone": s["AvailabilityZone"],
        }
        for s in ec2.describe_subnets()["Subnets"]
    ]
    enis = [
        {
            "id": e["NetworkInterfaceId"],
            "subnet": e["SubnetId"],
            "ips": [p["PrivateIpAddress"] for p in e.get("PrivateIpAddresses", [])],
            "groups": [g["GroupId"] for g in e.get("Groups", [])],
        }
        for e in ec2.describe_network_interfaces()["NetworkInterfaces"]
    ]
    igws = [
        {"id": g["InternetGatewayId"], "vpcs": [a["VpcId"] for a in g.get("Attachments", [])]}
        for g in ec2.describe_internet_gateways()["InternetGateways"]
    ]
    tables = [
        {
            "id": t["RouteTableId"],
            "vpc": t["VpcId"],
            "routes": {
                r.get("DestinationCidrBlock", ""): r.get("GatewayId", "")
                for r in t.get("Routes", [])
            },
            "subnets": [a["SubnetId"] for a in t.get("Associations", []) if a.get("SubnetId")],
        }
        for t in ec2.describe_route_tables()["RouteTables"]
    ]
    return {"vpcs": vpcs, "subnets": subnets, "enis": enis, "igws": igws, "route_tables": tables}
