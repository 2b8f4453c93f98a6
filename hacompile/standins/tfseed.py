"""EC2 as the bundle's Terraform leaves it for one plan region, made in moto: for tests of
`hacompile status` and for whoever seeds a stand-in EC2 the way a deployment would.

Why one place: `hacompile status` finds the deployment by its tags (hacompile.status), so a
seed that tags differently proves nothing. The tags here are those of the module templates:
every resource carries the provider's default tags (the plan's `tags`, the cluster tag among
them) and its own `Name = "<name prefix><key>"`; the EIPs (eips.tf) and the load balancers'
primary interfaces (instances.tf, aws_ec2_tag) also carry the deployment tag, whose value is
the name prefix followed by an ID Terraform generates once (iam.tf). `terraform_tags` spells
those tags for callers that create the resources themselves (hacompile.lab.cloud).

Terraform never associates an EIP (Keepalived's claim does); `seed_region` associates each
with its owner's slot, as a healthy tier looks after the first MASTER events, unless told not
to. Route VIPs get the module's own route table (or none, where the spec names tables) with a
VIP/32 route to the owner; secondary-IP VIPs are assigned to the owner's interface, as its
claim leaves them. Needs boto3 (an `ec2` client is passed in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hacompile.plan.model import Plan, Region

__all__ = [
    "DEPLOYMENT_ID",
    "Seeded",
    "associate_eip",
    "deployment_value",
    "seed_region",
    "tag_spec",
    "terraform_tags",
]

# What terraform_data.deployment.id would be: any fixed string does for a stand-in.
DEPLOYMENT_ID = "00000000-0000-4000-8000-000000000000"
LB_AMI = "ami-12c6146b"  # one of moto's built-in images: run_instances needs a known AMI


def deployment_value(region: Region, deployment_id: str = DEPLOYMENT_ID) -> str:
    """local.deployment_tag of iam.tf: the name prefix, then the deployment's ID."""
    return f"{region.names.prefix}{deployment_id}"


def terraform_tags(
    defaults: Mapping[str, str], name: str = "", deployment: tuple[str, str] | None = None
) -> list[dict[str, str]]:
    """A resource's tags as EC2 shows them after Terraform: the provider's default tags, the
    resource's Name (if it has one) and the deployment tag (EIPs and LB interfaces only)."""
    tags = dict(defaults)
    if name:
        tags["Name"] = name
    if deployment is not None:
        tags[deployment[0]] = deployment[1]
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def tag_spec(
    kind: str,
    defaults: Mapping[str, str],
    name: str = "",
    deployment: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """`terraform_tags` as the TagSpecifications argument of a create call of EC2."""
    return {
        "TagSpecifications": [
            {"ResourceType": kind, "Tags": terraform_tags(defaults, name, deployment)}
        ]
    }


@dataclass(frozen=True)
class Seeded:
    """The IDs moto handed out, by plan key (lb1, eip1, a vip's name, subnet key)."""

    vpc_id: str
    subnets: dict[str, str]
    instances: dict[str, str]
    enis: dict[str, str]
    eips: dict[str, str]  # eip key -> allocation ID
    public_ips: dict[str, str]
    route_table: str = ""
    deployment: tuple[str, str] = ("", "")


def seed_region(
    ec2: Any,
    plan: Plan,
    region: Region,
    *,
    associate: bool = True,
    deployment_id: str = DEPLOYMENT_ID,
) -> Seeded:
    """Create what `terraform apply` of `region` creates that `hacompile status` reads: the
    VPC, subnets, internet gateway and route table, one instance per LB at its private IP with
    its slot IPs, the tagged interfaces and EIPs; then the claims' work (see the module)."""
    defaults = dict(plan.tags)
    names = region.names
    deployment = (plan.deployment_tag_key, deployment_value(region, deployment_id))
    vpc = ec2.create_vpc(CidrBlock=region.vpc_cidr, **tag_spec("vpc", defaults, names.vpc))
    vpc = vpc["Vpc"]["VpcId"]
    subnets = {
        s.key: ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=s.cidr,
            AvailabilityZone=s.zone,
            **tag_spec("subnet", defaults, f"{plan.name}-{s.zone}"),
        )["Subnet"]["SubnetId"]
        for s in region.subnets
    }
    igw = ec2.create_internet_gateway(**tag_spec("internet-gateway", defaults, names.vpc))
    igw = igw["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(
        VpcId=vpc,
        **tag_spec("route-table", defaults, names.route_table),
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for subnet in subnets.values():
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    instances: dict[str, str] = {}
    enis: dict[str, str] = {}
    for lb in region.load_balancers:
        tags = tag_spec("instance", {**defaults, "Role": "load-balancer"}, names.prefix + lb.key)
        got = ec2.run_instances(
            ImageId=LB_AMI,
            MinCount=1,
            MaxCount=1,
            InstanceType=plan.lb_instance_type,
            SubnetId=subnets[lb.subnet_key],
            PrivateIpAddress=lb.private_ip,
            **tags,
        )["Instances"][0]
        eni = got["NetworkInterfaces"][0]["NetworkInterfaceId"]
        if lb.slot_ips:
            ec2.assign_private_ip_addresses(
                NetworkInterfaceId=eni, PrivateIpAddresses=list(lb.slot_ips)
            )
        ec2.create_tags(Resources=[eni], Tags=[{"Key": deployment[0], "Value": deployment[1]}])
        instances[lb.key], enis[lb.key] = got["InstanceId"], eni
    eips: dict[str, str] = {}
    public_ips: dict[str, str] = {}
    for eip in region.eips:
        name = f"{names.prefix}{eip.key}"
        got = ec2.allocate_address(
            Domain="vpc", **tag_spec("elastic-ip", defaults, name, deployment)
        )
        eips[eip.key], public_ips[eip.key] = got["AllocationId"], got["PublicIp"]
        if associate:
            associate_eip(ec2, region, got["AllocationId"], eip.key, eip.master, enis)
    own = [v for v in region.vips if v.strategy == "route" and v.own_route_table]
    for vip in own:
        ec2.create_route(
            RouteTableId=table,
            DestinationCidrBlock=f"{vip.address}/32",
            NetworkInterfaceId=enis[vip.master],
        )
    if associate:
        for vip in region.vips:
            if vip.strategy == "secondary_ip":
                ec2.assign_private_ip_addresses(
                    NetworkInterfaceId=enis[vip.master],
                    PrivateIpAddresses=[vip.address],
                    AllowReassignment=True,
                )
    return Seeded(vpc, subnets, instances, enis, eips, public_ips, table, deployment)


def associate_eip(
    ec2: Any, region: Region, allocation: str, eip: str, lb: str, enis: Mapping[str, str]
) -> None:
    """What LB `lb`'s claim does for EIP `eip`: associate it with that LB's slot for it."""
    index = [e.key for e in region.eips].index(eip)
    holder = next(x for x in region.load_balancers if x.key == lb)
    ec2.associate_address(
        AllocationId=allocation,
        NetworkInterfaceId=enis[lb],
        PrivateIpAddress=holder.slot_ips[index],
        AllowReassociation=True,
    )
