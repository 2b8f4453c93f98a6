"""Values of the right shape that would break or expose the tier (issue 11).

Each rule here refuses a value pydantic accepts but that HAProxy, sshd or AWS would turn into
an outage or an exposure: a stats port on sshd's, a backend that is the load balancer itself or
the instance metadata service (public traffic relayed to the instance role's credentials), SSH
open to the whole internet through a set of CIDRs whose union is everything, root as the SSH
user. Run from `hacompile.spec.rules.check`, reported with positions like every other rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, collapse_addresses
from typing import TYPE_CHECKING

from hacompile.errors import Loc
from hacompile.spec import network
from hacompile.spec.model import ExistingBackendSpec, RegionSpec, Spec
from hacompile.spec.types import PRIVATE_RANGES

if TYPE_CHECKING:
    from hacompile.spec.rules import Findings

SSH_PORT = 22
METADATA = IPv4Address("169.254.169.254")
LIMITED_BROADCAST = IPv4Address("255.255.255.255")
# Names that resolve to the host itself or to the metadata service on the load balancers:
# RFC 6761 reserves `localhost` and every name under it for loopback; Debian and Ubuntu's
# /etc/hosts add ip6-localhost and ip6-loopback (and many images localhost.localdomain);
# Amazon's resolver answers instance-data (and instance-data.REGION.compute.internal,
# instance-data.ec2.internal) with 169.254.169.254.
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LOCAL_SUFFIXES = (".localhost", ".localdomain")
# EC2's private DNS names embed the address: ip-10-0-1-10.ec2.internal,
# ip-10-0-1-10.us-west-2.compute.internal. (A pattern, compiled by `re` on its first use: most
# specs name no backend by DNS, and compiling it costs ~0.15 ms of every start-up.)
_EC2_NAME = (
    r"ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.(ec2|[a-z0-9-]+\.compute)"
    r"\.internal"
)
# No organisation's admin networks are larger than a /8, the largest block ever allocated; a
# set of CIDRs admitting more public addresses than that is "from anywhere" in effect (two /1s
# make the whole internet while each looks narrower than /0).
MAX_PUBLIC_ADDRESSES = 2**24


def check(spec: Spec, found: Findings) -> None:
    _ports(spec, found)
    for ri, region in enumerate(spec.regions):
        _backend_addresses(spec, region, ri, found)
    _cidrs(spec.access.ssh_cidrs, ("access", "ssh_cidrs"), "SSH", found)
    if spec.haproxy.stats:
        _cidrs(spec.haproxy.stats.cidrs, ("haproxy", "stats", "cidrs"), "the stats page", found)
    if spec.access.ssh_user == "root":
        found.add(
            ("access", "ssh_user"),
            "SSH as root is refused: cloud images disable root "
            "logins (cloud-init disable_root), and Ansible escalates with become from the "
            "image's own user (ubuntu), which leaves a sudo log",
        )


def _ports(spec: Spec, found: Findings) -> None:
    """The frontend/22 and frontend/stats collisions are in `rules._haproxy`; this is stats/22."""
    stats = spec.haproxy.stats
    if stats and stats.port == SSH_PORT:
        found.add(
            ("haproxy", "stats", "port"),
            "port 22 is SSH on the load balancers: HAProxy "
            "cannot bind where sshd listens, and the security group would open tcp/22 to "
            "stats.cidrs",
        )


def own_addresses(spec: Spec, region: RegionSpec) -> dict[IPv4Address, str]:
    """Every address the plan gives the load balancers of `region`, with what it is."""
    n = spec.load_balancers.count
    subnets = network.subnets(region)
    per_subnet: dict[int, int] = {}
    out: dict[IPv4Address, str] = {}
    for k in range(n):
        zi = network.lb_zone_index(k, len(subnets))
        ordinal = per_subnet.get(zi, 0)
        per_subnet[zi] = ordinal + 1
        mgmt, slots = network.lb_addresses(subnets[zi], ordinal, n, network.taken(region))
        out[mgmt] = f"the management IP of lb{k + 1}"
        for s, slot in enumerate(slots):
            out[slot] = f"lb{k + 1}'s slot IP for eip{s + 1}"
    return out


def reserved_addresses(region: RegionSpec) -> dict[IPv4Address, str]:
    """The five addresses AWS keeps in each of the region's subnets: no server can have one."""
    out: dict[IPv4Address, str] = {}
    for subnet in network.subnets(region):
        base = int(subnet.network_address)
        for offset, what in ((0, "network"), (1, "VPC router"), (2, "DNS"), (3, "reserved")):
            out[IPv4Address(base + offset)] = f"the {what} address AWS reserves in {subnet}"
        out[subnet.broadcast_address] = f"the broadcast address of {subnet}, which AWS reserves"
    return out


def address_problem(ip: IPv4Address) -> str:
    """Why no backend can be at `ip` on any host, or ""."""
    if ip == METADATA:
        return (
            "is the instance metadata service: public traffic would be relayed to it, and "
            "with it the instance role's credentials"
        )
    if ip.is_link_local:
        return "is link-local (169.254.0.0/16): the load balancer's own link, not a server"
    if ip.is_loopback:
        return "is loopback: HAProxy would send the traffic to the load balancer itself"
    if ip.is_unspecified:
        return "is the unspecified address 0.0.0.0, not a server"
    if ip.is_multicast:
        return "is a multicast address, not a server"
    if ip == LIMITED_BROADCAST:
        return "is the broadcast address, not a server"
    if ip.is_reserved:
        return "is in reserved address space (240.0.0.0/4), not a server"
    return ""


def _name_address(name: str) -> IPv4Address | str | None:
    """The address a backend name stands for when hacompile can tell: an IP, a known local
    name (returned as the reason), or None."""
    lowered = name.lower()
    if lowered == "instance-data" or lowered.startswith("instance-data."):
        return (
            f"{name} is the instance metadata service (169.254.169.254) by Amazon's "
            "resolver: public traffic would be relayed to it, and with it the instance "
            "role's credentials"
        )
    if lowered in LOCAL_NAMES or lowered.endswith(_LOCAL_SUFFIXES):
        return (
            f"{name} is the load balancer's own loopback: HAProxy would send the traffic to itself"
        )
    match = re.fullmatch(_EC2_NAME, lowered)
    if match and all(int(part) <= 255 for part in match.groups()[:4]):
        return IPv4Address(".".join(match.groups()[:4]))
    try:
        return IPv4Address(name)
    except ValueError:
        return None


def _backend_addresses(spec: Spec, region: RegionSpec, ri: int, found: Findings) -> None:
    """Every server the region lists, the implicit pool's (`backends`) and each named pool's."""
    listed: list[tuple[Loc, ExistingBackendSpec]] = [
        (("regions", ri, "backends", bi, "address"), b) for bi, b in enumerate(region.backends)
    ]
    for pool, servers in region.pools.items():
        listed += [
            (("regions", ri, "pools", pool, bi, "address"), b) for bi, b in enumerate(servers)
        ]
    if not listed:
        return
    own = own_addresses(spec, region)
    reserved = reserved_addresses(region)
    for at, backend in listed:
        target = _name_address(backend.address)
        if isinstance(target, str):
            found.add(at, f"backend {backend.name}: {target}")
            continue
        if target is None:
            continue
        shown = (
            backend.address if str(target) == backend.address else f"{backend.address} ({target})"
        )
        why = address_problem(target)
        if why:
            found.add(at, f"backend {backend.name} at {shown} {why}")
        elif target in reserved:
            found.add(
                at,
                f"backend {backend.name} at {shown} is {reserved[target]}: no server can have it",
            )
        elif target in own:
            found.add(
                at,
                f"backend {backend.name} at {shown} is {own[target]}: HAProxy would "
                "send traffic back to the load balancers (a proxy loop)",
            )


def public_addresses(nets: Sequence[IPv4Network]) -> int:
    """How many addresses outside RFC 1918 the union of `nets` admits."""
    total = 0
    for net in collapse_addresses(nets):
        total += net.num_addresses
        for private in PRIVATE_RANGES:
            if private.subnet_of(net):
                total -= private.num_addresses
            elif net.subnet_of(private):
                total -= net.num_addresses
    return total


def _cidrs(cidrs: Sequence[str], at: Loc, what: str, found: Findings) -> None:
    nets = [IPv4Network(c) for c in cidrs]
    if any(n.prefixlen == 0 for n in nets):
        return  # `rules._access` refuses each /0 at its item
    union = list(collapse_addresses(nets))
    if union == [IPv4Network("0.0.0.0/0")]:
        found.add(
            at,
            f"{what} from anywhere is refused: together these CIDRs cover the whole "
            "internet (0.0.0.0/0)",
        )
        return
    public = public_addresses(nets)
    if public > MAX_PUBLIC_ADDRESSES:
        found.add(
            at,
            f"{what} from {public:,} public addresses is refused: together these "
            "CIDRs admit more than a /8 (16,777,216) of the internet; list the networks "
            "your admins connect from",
        )


# For sections kept in their own modules (hacompile.spec.observability).
check_cidrs = _cidrs
