"""What the lab's cloud host makes in moto before the LBs start: what the bundle's Terraform
would have made in EC2 for the tier (hacompile.lab.cloud runs it; the unit tests call it).

Why apart from hacompile.lab.cloud: seeding is plain EC2 calls, testable without the cloud
host's edge, proxy and sync loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hacompile.lab import router
from hacompile.standins.moto import ec2_client
from hacompile.standins.tfseed import LB_AMI, tag_spec

__all__ = ["seed"]


def seed(
    endpoint: str, cfg: Mapping[str, Any], existing: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """VPC, subnets, one ENI per LB (primary IP + one secondary slot per EIP), the EIPs.

    With `existing` (what hacompile.lab.existing_net.create made for a bring-your-own-network
    spec) no VPC or subnet is created: the ENIs go into the existing subnets, with the existing
    security groups, as the bundle's Terraform would put them. Private VIPs get what the
    bundle's Terraform makes for them (hacompile.lab.router.seed_routes).

    With cfg["tagging"] (hacompile.lab.topology.Tagging) everything is tagged as the bundle's
    Terraform tags it (hacompile.standins.tfseed): the EIPs Name = <prefix><key> and the
    deployment tag (eips.tf), the interfaces the deployment tag (instances.tf), the VPC and
    the VIPs' route table their Name; so `hacompile status` finds them. With tagging each LB
    also gets its EC2 instance (instances.tf: Name = <prefix><key>, Role, the default tags),
    launched on the LB's interface as its primary one, and the hosts' IMDS reports that
    instance's ID; without, the IDs are made up and no instance exists."""
    ec2 = ec2_client(endpoint, cfg["region"])
    tagging = cfg.get("tagging") or {}
    defaults = dict(tagging.get("defaults", {}))
    key_value = tagging.get("deployment")
    deployment = (str(key_value[0]), str(key_value[1])) if key_value else None

    def spec(kind: str, name: str = "", tagged: bool = False) -> dict[str, Any]:
        return tag_spec(kind, defaults, name, deployment if tagged else None) if tagging else {}

    groups: list[str] = []
    if existing is None:
        vpc = ec2.create_vpc(CidrBlock=cfg["vpc_cidr"], **spec("vpc", tagging.get("vpc", "")))
        vpc = vpc["Vpc"]["VpcId"]
        subnets = {
            c: ec2.create_subnet(VpcId=vpc, CidrBlock=c)["Subnet"]["SubnetId"]
            for c in cfg["subnets"]
        }
    else:
        vpc = existing["vpc_id"]
        subnets = {s["cidr"]: s["subnet_id"] for s in existing["subnets"]}
        groups = list(existing["security_groups"].values())
    enis: dict[str, dict[str, str]] = {}
    prefix = tagging.get("name_prefix", "")
    for lb in cfg["lbs"]:
        extra: dict[str, Any] = {"Groups": groups} if groups else {}
        # aws_ec2_tag: the deployment tag only (EC2 copies no instance tags to an interface)
        if deployment:
            extra.update(tag_spec("network-interface", {}, "", deployment))
        eni = ec2.create_network_interface(
            SubnetId=subnets[lb["subnet_cidr"]], PrivateIpAddress=lb["ip"], **extra
        )["NetworkInterface"]
        ec2.assign_private_ip_addresses(
            NetworkInterfaceId=eni["NetworkInterfaceId"], PrivateIpAddresses=list(lb["slots"])
        )
        instance = "i-%017x" % (0x1AB0 + len(enis))
        if tagging:
            instance = _instance(ec2, eni["NetworkInterfaceId"], defaults, prefix + lb["key"])
        enis[lb["key"]] = {
            "eni_id": eni["NetworkInterfaceId"],
            "mac": str(eni["MacAddress"]).lower(),
            "instance_id": instance,
        }
    eips: dict[str, dict[str, str]] = {}
    for eip in cfg["eips"]:
        got = ec2.allocate_address(
            Domain="vpc", **spec("elastic-ip", f"{prefix}{eip['key']}", tagged=True)
        )
        eips[eip["key"]] = {"allocation_id": got["AllocationId"], "public_ip": got["PublicIp"]}
    table_tags = spec("route-table", tagging.get("route_table", ""))
    tables = router.seed_routes(ec2, vpc, subnets.values(), cfg.get("vips", []), enis, table_tags)
    return {
        "vpc_id": vpc,
        "enis": enis,
        "eips": eips,
        "existing": existing,
        "route_tables": tables,
    }


def _instance(ec2: Any, eni: str, defaults: Mapping[str, str], name: str) -> str:
    """The LB's instance, tagged as instances.tf tags it, with `eni` as its primary interface
    (in AWS the instance makes its interface; here the interface exists first, so the lab's
    addresses and IDs are what they were before instances were seeded)."""
    got = ec2.run_instances(
        ImageId=LB_AMI,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        NetworkInterfaces=[{"DeviceIndex": 0, "NetworkInterfaceId": eni}],
        **tag_spec("instance", {**defaults, "Role": "load-balancer"}, name),
    )
    return str(got["Instances"][0]["InstanceId"])
