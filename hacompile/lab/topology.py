"""Where every lab host sits: namespaces, addresses, routes, derived from one region of the plan.

Why this shape: AWS routes between the subnets of a VPC through an implicit router at each
subnet's ".1"; the lab's bridge namespace plays that router (it owns the bridge and every
subnet's ".1"), so a load balancer's gateway check pings a real neighbour and unicast VRRP
crosses subnets the way it does between availability zones. The services that AWS provides
from outside the VPC (the EC2 API, the edge that maps EIPs, the users) live on a separate lab
network, 198.18.0.0/24 (RFC 2544 benchmarking range), and the EIPs get lab addresses on
198.18.1.0/24 owned by the edge. Nothing is ever added to the root namespace and no namespace
has a route off the machine: every default route points at the bridge namespace, which has no
uplink.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from hacompile.plan.build import DEPLOYMENT_TAG
from hacompile.plan.model import Region

PREFIX_RE = re.compile(r"^hcl[0-9a-f]{6}$")
SERVICE_NET = ipaddress.ip_network("198.18.0.0/24")
EIP_NET = ipaddress.ip_network("198.18.1.0/24")
ROUTER_SERVICE_IP = "198.18.0.1"
EDGE_IP = "198.18.0.2"
CLIENT_IP = "198.18.0.3"
CLOUD_IP = "198.18.0.4"
CONTROLLER_IP = "198.18.0.5"  # booted hosts only: Ansible, the package mirror, the resolver
VPC_CLIENT_HOST = 10  # the VPC client's host number in its own subnet (specs with private VIPs)
API_PORT = 80
IMDS_IP = "169.254.169.254"
LAB_ROOT = Path("/tmp/hacompile-lab")


@dataclass(frozen=True)
class Host:
    """One namespace on the bridge: `name` is also the bridge-side veth's name."""

    name: str  # lb1, web1, cloud, client, edge
    kind: str  # lb | backend | cloud | client | edge
    ns: str
    ip: str
    prefix: int
    gateway: str


@dataclass(frozen=True)
class LabLb:
    key: str  # lb1
    inventory_host: str
    ip: str
    subnet_cidr: str
    slots: tuple[str, ...]  # slot IP per EIP, in EIP order


@dataclass(frozen=True)
class LabEip:
    key: str  # eip1
    address: str  # the lab address the edge owns for it
    owner: str  # lb key that holds it while healthy


@dataclass(frozen=True)
class LabVip:
    """A private VIP (plan Region.vips): its key is the VRRP instance name, also the key of
    its probe rows, events and mapping entries, like an EIP's."""

    key: str
    strategy: str  # route | secondary_ip
    address: str
    owner: str
    holders: tuple[str, ...]  # the owner, then the takeover order; nobody else may hold it


@dataclass(frozen=True)
class LabBackend:
    name: str
    address: str  # as written in the spec (IP or DNS name)
    ip: str  # where the lab runs it
    port: int


@dataclass(frozen=True)
class Tagging:
    """How the bundle's Terraform tags the region's resources, for the lab's cloud to tag its
    own alike (hacompile.lab.cloud.seed), so that `hacompile status` finds them in the lab's
    EC2 as it would in AWS: the EIPs (Name, deployment tag), the LBs' interfaces (deployment
    tag), the VPC and the VIPs' route table (Name); all with the provider's default tags."""

    name_prefix: str  # Region.names.prefix: Name = <prefix><key>
    vpc_name: str
    route_table_name: str
    defaults: tuple[tuple[str, str], ...]  # Plan.tags, the cluster tag among them
    deployment_key: str
    deployment_value: str  # the prefix, then an ID of this lab run (Terraform's: a UUID)

    def as_config(self) -> dict[str, object]:
        return {
            "name_prefix": self.name_prefix,
            "vpc": self.vpc_name,
            "route_table": self.route_table_name,
            "defaults": dict(self.defaults),
            "deployment": [self.deployment_key, self.deployment_value],
        }


@dataclass(frozen=True)
class Topology:
    prefix: str
    lab_dir: Path
    region: str
    vpc_cidr: str
    subnets: tuple[str, ...]
    router_ns: str
    router_ips: tuple[str, ...]  # "a.b.c.d/p" on the bridge
    hosts: tuple[Host, ...]
    lbs: tuple[LabLb, ...]
    eips: tuple[LabEip, ...]
    backends: tuple[LabBackend, ...]
    vips: tuple[LabVip, ...] = ()
    tagging: Tagging | None = None

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def ns(self, name: str) -> str:
        return self.host(name).ns

    def lb(self, key: str) -> LabLb:
        return next(lb for lb in self.lbs if lb.key == key)

    def slot_owner(self, eip_index: int, ip: str) -> str:
        """Which LB a slot IP of EIP `eip_index` belongs to ('' if none)."""
        return next((lb.key for lb in self.lbs if lb.slots[eip_index] == ip), "")

    @property
    def api_url(self) -> str:
        return f"http://{CLOUD_IP}:{API_PORT}"


def new_prefix() -> str:
    """A unique run prefix: every namespace and directory of one run starts with it."""
    return "hcl" + secrets.token_hex(3)


def build(
    region: Region,
    prefix: str,
    lab_root: Path = LAB_ROOT,
    controller: bool = False,
    *,
    tags: tuple[tuple[str, str], ...] = (),
    deployment_tag_key: str = DEPLOYMENT_TAG,
) -> Topology:
    """Lay one plan region out as lab hosts (with `controller`, also the deploy host); `tags`
    (Plan.tags) and `deployment_tag_key` say how its cloud tags what it makes (Tagging)."""
    if not PREFIX_RE.match(prefix):
        raise ValueError(f"bad lab prefix {prefix!r}")
    nets = {s.key: ipaddress.ip_network(s.cidr) for s in region.subnets}
    gateways: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, str] = {
        net: str(net.network_address + 1) for net in nets.values()
    }
    hosts: list[Host] = []

    def add(
        name: str, kind: str, ip: str, net: ipaddress.IPv4Network | ipaddress.IPv6Network
    ) -> None:
        hosts.append(Host(name, kind, f"{prefix}-{name}", ip, net.prefixlen, gateways[net]))

    lbs = []
    for lb in region.load_balancers:
        net = nets[lb.subnet_key]
        add(lb.key, "lb", lb.private_ip, net)
        lbs.append(LabLb(lb.key, lb.host, lb.private_ip, str(net), lb.slot_ips))
    backends = []
    used = {ipaddress.ip_address(h.ip) for h in hosts}
    for server in region.servers:
        ip = _backend_ip(server.address, nets, gateways, used)
        used.add(ipaddress.ip_address(ip))
        net = next(n for n in gateways if ipaddress.ip_address(ip) in n)
        add(server.name, "backend", ip, net)
        backends.append(LabBackend(server.name, server.address, ip, server.port))
    gateways[SERVICE_NET] = ROUTER_SERVICE_IP
    add("edge", "edge", EDGE_IP, SERVICE_NET)
    add("client", "client", CLIENT_IP, SERVICE_NET)
    add("cloud", "cloud", CLOUD_IP, SERVICE_NET)
    if controller:
        add("ctl", "controller", CONTROLLER_IP, SERVICE_NET)
    if region.vips:
        net = vpc_client_net(region.vpc_cidr, list(gateways))
        gateways[net] = str(net.network_address + 1)
        add("vclient", "vpcclient", str(net.network_address + VPC_CLIENT_HOST), net)
    eips = tuple(
        LabEip(e.key, str(EIP_NET.network_address + 11 + i), e.master)
        for i, e in enumerate(region.eips)
    )
    router_ips = tuple(f"{gw}/{net.prefixlen}" for net, gw in gateways.items())
    return Topology(
        prefix=prefix,
        lab_dir=lab_root / prefix,
        region=region.name,
        vpc_cidr=region.vpc_cidr,
        subnets=tuple(str(n) for n in nets.values()),
        router_ns=f"{prefix}-br",
        router_ips=router_ips,
        hosts=tuple(hosts),
        lbs=tuple(lbs),
        eips=eips,
        backends=tuple(backends),
        vips=tuple(LabVip(v.name, v.strategy, v.address, v.master, v.holders) for v in region.vips),
        tagging=Tagging(
            name_prefix=region.names.prefix,
            vpc_name=region.names.vpc,
            route_table_name=region.names.route_table,
            defaults=tags,
            deployment_key=deployment_tag_key,
            deployment_value=f"{region.names.prefix}lab-{prefix}",
        ),
    )


def vpc_client_net(
    vpc_cidr: str, used: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> ipaddress.IPv4Network:
    """A /24 of the VPC that no subnet or backend network overlaps (the highest free one): the
    VPC client's own subnet. Why its own: from there a VIP is reached only through the router,
    which follows EC2's state, never through a gratuitous ARP on a shared segment."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    if vpc.prefixlen > 24:
        raise ValueError(f"VPC {vpc_cidr} has no room for the lab's VPC client subnet")
    for net in reversed(list(vpc.subnets(new_prefix=24))):
        if not any(net.overlaps(u) for u in used):
            return net
    raise ValueError(f"no free /24 in {vpc_cidr} for the lab's VPC client")


def _backend_ip(
    address: str,
    nets: dict[str, ipaddress.IPv4Network | ipaddress.IPv6Network],
    gateways: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, str],
    used: set[ipaddress.IPv4Address | ipaddress.IPv6Address],
) -> str:
    """The lab IP of a backend: its own if it is an IP, else a free one (DNS names).

    An existing backend outside every LB subnet gets its own /24 with the router at ".1"; a DNS
    name gets the next free address of the first backend network (or of the first subnet).
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        extra = [n for n in gateways if n not in nets.values()]
        net = extra[0] if extra else next(iter(nets.values()))
        for candidate in list(net.hosts())[9:]:
            if candidate not in used and str(candidate) != gateways[net]:
                return str(candidate)
        raise ValueError(f"no free lab address for backend {address!r}") from None
    if not any(ip in n for n in gateways):
        net = ipaddress.ip_network(f"{ip}/24", strict=False)
        gateways[net] = str(net.network_address + 1)
    return str(ip)
