"""What `hacompile status` found: EC2's facts about one deployment, and the verdict on them.

Why two kinds of record: `Facts` are what EC2 said, read once per region (hacompile.status.
read); the statuses are the plan compared with them (hacompile.status.compare), which the
CLI prints. Both are frozen `Record`s, like every value that passes between the stages.
"""

from __future__ import annotations

from hacompile.record import Record


class Eni(Record):
    """A network interface as EC2 lists it. `ours`: it belongs to the deployment (its
    deployment tag, its VPC or its instance says so); only ours map to a load balancer."""

    id: str
    primary_ip: str
    ips: tuple[str, ...]  # every private IP EC2 lists on it, the primary among them
    vpc_id: str
    instance_id: str  # "" when detached
    ours: bool


class Address(Record):
    """An Elastic IP of the deployment (its deployment tag starts with the name prefix)."""

    allocation_id: str
    public_ip: str
    name: str  # its Name tag
    deployment: str  # its deployment tag's value
    eni_id: str  # "" when not associated
    instance_id: str = ""


class Instance(Record):
    id: str
    name: str  # its Name tag
    state: str  # pending | running | stopping | stopped | shutting-down | terminated
    eni_id: str  # the primary interface ("" once terminated)


class Route(Record):
    table_id: str
    destination: str
    eni_id: str
    instance_id: str
    state: str  # active | blackhole


class Facts(Record):
    """What EC2 says about one region's deployment."""

    addresses: tuple[Address, ...]
    instances: tuple[Instance, ...]
    enis: tuple[Eni, ...]
    tables: tuple[str, ...]  # the route tables read (that exist)
    routes: tuple[Route, ...]  # their /32 routes
    own_tables: tuple[str, ...]  # the bundle's own route table(s), found by their tags


class AddressStatus(Record):
    """One EIP or private VIP: who should hold it (the plan) and who does (EC2)."""

    name: str  # eip1, or the VIP's name
    kind: str  # eip | vip
    strategy: str  # eip | route | secondary_ip
    address: str  # the EIP's public IP(s) ("" when none is tagged), or the VIP's address
    should: str  # the owner LB
    now: tuple[str, ...]  # LB keys, or the IDs of interfaces of no LB; () nowhere
    problem: str = ""  # "" when it is at its owner: else how it is not, in words

    @property
    def ok(self) -> bool:
        return not self.problem


class LbStatus(Record):
    name: str  # lb1
    instance_id: str  # "" when missing
    state: str  # the instance's state, or "missing"
    eni_id: str  # its primary interface, found by instance or by private IP ("" none)
    holds: tuple[str, ...]  # the addresses EC2 has at it now
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


class RegionStatus(Record):
    name: str
    addresses: tuple[AddressStatus, ...]
    lbs: tuple[LbStatus, ...]
    drift: tuple[str, ...]  # one line each, naming the region and the address or LB


class Status(Record):
    regions: tuple[RegionStatus, ...]

    @property
    def drift(self) -> tuple[str, ...]:
        return tuple(line for region in self.regions for line in region.drift)

    @property
    def ok(self) -> bool:
        return not self.drift
