"""What Terraform would create in the EC2 API for one small region: a VPC, a subnet, ENIs with
their slot IPs, and EIP allocations; plus where an EIP is associated now.

Why: the script tests run the EIP claim and the secondary-IP scripts against moto, and those
scripts need the resources a deployment would have made (an ENI per LB carrying one secondary
"slot" IP per EIP, the EIPs themselves) with IDs that moto handed out. `create_lab` makes them
in a fresh VPC, so tests can share one moto server; `association` reads back the one fact a
failover changes. Needs boto3 (see moto.ec2_client).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hacompile.standins.moto import ec2_client

__all__ = ["Ec2Lab", "LabEip", "LabEni", "association", "create_lab"]


@dataclass(frozen=True)
class LabEni:
    """An LB's primary ENI: primary_ip is management only, slots[i] is the slot for EIP i."""

    eni_id: str
    mac: str
    primary_ip: str
    slots: tuple[str, ...]


@dataclass(frozen=True)
class LabEip:
    allocation_id: str
    public_ip: str


@dataclass(frozen=True)
class Ec2Lab:
    region: str
    vpc_id: str
    subnet_id: str
    subnet_cidr: str
    enis: tuple[LabEni, ...]
    eips: tuple[LabEip, ...]


def create_lab(
    endpoint_url: str,
    *,
    region: str = "us-east-1",
    subnet_cidr: str = "10.20.1.0/24",
    lbs: int = 2,
    eips: int = 2,
) -> Ec2Lab:
    """A VPC, one subnet, per LB an ENI (primary .10+k, slot for EIP i .21+10k+i), N EIPs."""
    ec2 = ec2_client(endpoint_url, region)
    net = ipaddress.ip_network(subnet_cidr)
    vpc_id = str(ec2.create_vpc(CidrBlock=str(net.supernet(new_prefix=16)))["Vpc"]["VpcId"])
    subnet_id = str(ec2.create_subnet(VpcId=vpc_id, CidrBlock=subnet_cidr)["Subnet"]["SubnetId"])
    enis = []
    for k in range(lbs):
        primary = str(net.network_address + 10 + k)
        slots = tuple(str(net.network_address + 21 + 10 * k + i) for i in range(eips))
        eni = ec2.create_network_interface(SubnetId=subnet_id, PrivateIpAddress=primary)
        eni_id = str(eni["NetworkInterface"]["NetworkInterfaceId"])
        if slots:
            ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=slots)
        mac = str(eni["NetworkInterface"]["MacAddress"]).lower()
        enis.append(LabEni(eni_id, mac, primary, slots))
    allocations = []
    for _ in range(eips):
        got = ec2.allocate_address(Domain="vpc")
        allocations.append(LabEip(str(got["AllocationId"]), str(got["PublicIp"])))
    return Ec2Lab(region, vpc_id, subnet_id, subnet_cidr, tuple(enis), tuple(allocations))


def association(
    endpoint_url: str, allocation_id: str, region: str = "us-east-1"
) -> tuple[str | None, str | None]:
    """(NetworkInterfaceId, PrivateIpAddress) of an EIP as DescribeAddresses reports it."""
    ec2 = ec2_client(endpoint_url, region)
    addr = ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"][0]
    eni, ip = addr.get("NetworkInterfaceId"), addr.get("PrivateIpAddress")
    return (str(eni) if eni else None, str(ip) if ip else None)
