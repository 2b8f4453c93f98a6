"""Cross-field rules: what a shape check cannot see but AWS, Keepalived or HAProxy would reject.

Each rule appends located diagnostics instead of raising, so a user sees every problem in one
run. Positions come from the loader, keyed by the same data path the message names.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from ipaddress import IPv4Network

from hacompile.errors import Diagnostic, Loc, Severity, format_loc
from hacompile.load import Positions
from hacompile.spec import (
    bounds,
    dns_rules,
    instances,
    network,
    network_rules,
    observability,
    pools,
    routes,
    safety,
    security_rules,
    tls_rules,
    vip_rules,
    vrrp,
)
from hacompile.spec.model import Spec
from hacompile.spec.types import PRIVATE_RANGES


class Findings:
    def __init__(self, positions: Positions, file: str) -> None:
        self._positions = positions
        self._file = file
        self.items: list[Diagnostic] = []

    def add(
        self, loc: Loc, message: str, severity: Severity = Severity.ERROR, *, at_key: bool = False
    ) -> None:
        """A finding at the value at `loc` (or, `at_key`, at its mapping key: a wrong name)."""
        line, col = self._positions.locate(loc, at_key=at_key)
        self.items.append(Diagnostic(line, col, severity, format_loc(loc), message, self._file))


def _duplicates(values: Iterable[object]) -> set[object]:
    return {v for v, n in Counter(values).items() if n > 1}


def check(spec: Spec, positions: Positions, file: str) -> tuple[Diagnostic, ...]:
    found = Findings(positions, file)
    _regions(spec, found)
    _load_balancers(spec, found)
    _keepalived(spec, found)
    _haproxy(spec, found)
    _access(spec, found)
    routes.check(spec, found)
    safety.check(spec, found)
    security_rules.check(spec, found)
    dns_rules.check(spec, found)
    observability.check(spec, found)
    tls_rules.check(spec, found)
    vip_rules.check(spec, found)
    return tuple(found.items)


def _regions(spec: Spec, found: Findings) -> None:
    dup = _duplicates(r.name for r in spec.regions)
    n_lbs = spec.load_balancers.count
    for ri, region in enumerate(spec.regions):
        at: Loc = ("regions", ri)
        if region.name in dup:
            found.add((*at, "name"), f"region {region.name} is listed more than once")
        vpc = IPv4Network(region.vpc_cidr)
        if not any(vpc.subnet_of(r) for r in PRIVATE_RANGES):
            found.add(
                (*at, "vpc_cidr"),
                f"{vpc} is not private address space (RFC 1918): "
                "use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            )
        if not 16 <= vpc.prefixlen <= 24:
            found.add(
                (*at, "vpc_cidr"),
                f"AWS VPCs are /16 to /28; hacompile needs /16 to /24, got /{vpc.prefixlen}",
            )
            continue
        zdup = _duplicates(z.name for z in region.zones)
        subnets = network.subnets(region)
        seen: list[tuple[int, IPv4Network]] = []
        for zi, (zone, subnet) in enumerate(zip(region.zones, subnets, strict=True)):
            zat: Loc = (*at, "zones", zi)
            if zone.name in zdup:
                found.add((*zat, "name"), f"zone {zone.name} is listed more than once")
            suffix = zone.name[len(region.name) :]
            if not zone.name.startswith(region.name) or len(suffix) != 1:
                found.add(
                    (*zat, "name"),
                    f"zone {zone.name} is not in region {region.name} "
                    f"(expected {region.name}a, {region.name}b, ...)",
                )
            sat = (*zat, "subnet_cidr") if zone.subnet_cidr else zat
            if not subnet.subnet_of(vpc) or subnet == vpc:
                found.add(
                    sat,
                    f"subnet {subnet} is not inside the VPC {vpc}"
                    if not subnet.subnet_of(vpc)
                    else f"VPC {vpc} is too small to carve a subnet for every zone",
                )
                continue
            for other_index, other in seen:
                if subnet.overlaps(other):
                    found.add(
                        sat, f"subnet {subnet} overlaps {other} of {region.zones[other_index].name}"
                    )
            seen.append((zi, subnet))
            _capacity(spec, found, sat, subnet, zi, len(region.zones), n_lbs, network.taken(region))
        network_rules.existing_network(spec, found, ri)
        if not spec.pools:  # with pools: hacompile.spec.routes
            _backends(spec, found, ri)


def _capacity(
    spec: Spec,
    found: Findings,
    at: Loc,
    subnet: IPv4Network,
    zone_index: int,
    zones: int,
    n_lbs: int,
    used: frozenset[int] = frozenset(),
) -> None:
    lbs_here = sum(1 for k in range(n_lbs) if network.lb_zone_index(k, zones) == zone_index)
    lbs_max = -(-n_lbs // zones)
    demo = pools.demo_servers(spec)
    backends_here = sum(1 for b in range(len(demo)) if b % zones == zone_index)
    # the address after the last one placed (taken addresses skipped, as the planner does)
    last = network.nth_free(subnet, network.backend_offset(lbs_max, n_lbs) + backends_here, used)
    lb_last = network.nth_free(subnet, network.LB_BASE_OFFSET + lbs_here * (n_lbs + 1), used)
    if max(last, lb_last) > network.usable_last(subnet):
        found.add(
            at,
            f"subnet {subnet} is too small for {lbs_here} load balancer(s) with "
            f"{n_lbs + 1} addresses each and {backends_here} demo backend(s); "
            "use a larger subnet_cidr or vpc_cidr",
        )


def _backends(spec: Spec, found: Findings, ri: int) -> None:
    region = spec.regions[ri]
    at: Loc = ("regions", ri, "backends")
    if spec.backends.demo is not None and region.backends:
        found.add(at, "`backends.demo` creates the backends; do not also list existing ones")
    if spec.backends.demo is None and not region.backends:
        found.add(
            ("regions", ri),
            "no backends: list existing ones under `backends:` here, or "
            "set `backends.demo` to have the bundle create demo web servers",
        )
    dup = _duplicates(b.name for b in region.backends)
    for bi, backend in enumerate(region.backends):
        if backend.name in dup:
            found.add((*at, bi, "name"), f"backend name {backend.name} is used more than once")


def _load_balancers(spec: Spec, found: Findings) -> None:
    lbs = spec.load_balancers
    limit = instances.ipv4_limit(lbs.instance_type, lbs.ipv4_per_eni)
    if limit is None:
        found.add(
            ("load_balancers", "instance_type"),
            f"hacompile does not know the per-ENI IPv4 limit of {lbs.instance_type}; "
            "set `load_balancers.ipv4_per_eni` from the AWS documentation",
        )
    elif lbs.count + 1 > limit:
        found.add(
            ("load_balancers", "count"),
            f"{lbs.count} load balancers need {lbs.count + 1} private IPv4 addresses per "
            f"ENI (1 management + 1 slot per EIP), but {lbs.instance_type} allows {limit}; "
            "use fewer load balancers or a larger instance type",
        )
    total = lbs.count * len(spec.regions)
    if total > bounds.MAX_LB_INSTANCES:
        found.add(
            ("load_balancers", "count"),
            f"{lbs.count} load balancers in each of {len(spec.regions)} regions make "
            f"{total}; a spec may have at most {bounds.MAX_LB_INSTANCES} (the failover "
            "proof tries every pair of failures in every region): use fewer per region, "
            "or split the regions over several specs",
        )
    if lbs.flavor == "hapee" and instances.architecture(lbs.instance_type) != "x86_64":
        found.add(
            ("load_balancers", "instance_type"),
            "the HAProxy Enterprise Marketplace AMI is x86_64; pick an x86_64 type",
        )


def _keepalived(spec: Spec, found: Findings) -> None:
    ka = spec.keepalived
    n = spec.load_balancers.count
    if ka.vrid_base + n - 1 > 255:
        found.add(
            ("keepalived", "vrid_base"),
            f"VRIDs {ka.vrid_base}..{ka.vrid_base + n - 1} run past 255; lower vrid_base",
        )
    prio = ka.priority
    if prio.backup >= prio.master:
        found.add(
            ("keepalived", "priority", "backup"),
            f"backup priority {prio.backup} must be below master priority {prio.master}",
        )
    lowest = prio.backup - prio.step * (n - 2)
    if lowest < 1:
        found.add(
            ("keepalived", "priority", "step"),
            f"with {n} load balancers the lowest "
            f"backup priority would be {lowest}; priorities must stay 1..254",
        )
    if n >= 3:
        _takeover_gap(spec, found)
    if ka.vrrp_version == 3 and ka.auth:
        found.add(
            ("keepalived", "auth"),
            "VRRPv3 has no authentication; the security group "
            "already limits IP protocol 112 to the load balancers",
        )
    if ka.vrrp_version == 2 and float(ka.advert_int) != int(ka.advert_int):
        found.add(
            ("keepalived", "advert_int"),
            "VRRPv2 adverts are whole seconds; use vrrp_version: 3 for sub-second advert_int",
        )
    if ka.vrrp_version == 3 and (ka.advert_int > 40.95 or round(ka.advert_int * 100, 6) % 1):
        found.add(
            ("keepalived", "advert_int"),
            "VRRPv3 advert_int is 0.01..40.95 seconds in steps of 0.01",
        )
    checks = ka.checks or []
    names = _duplicates(c.name for c in checks)
    gateways = [i for i, c in enumerate(checks) if c.gateway]
    for ci, chk in enumerate(checks):
        if chk.name in names:
            found.add(("keepalived", "checks", ci, "name"), f"check {chk.name} is defined twice")
    for ci in gateways[1:]:
        found.add(("keepalived", "checks", ci, "gateway"), "only one gateway check is useful")


def _takeover_gap(spec: Spec, found: Findings) -> None:
    """With three or more load balancers a lost MASTER's EIP has several backups, and only the
    skew of their master-down timers decides which takes over: `step` points of priority are
    `step` / 256 s apart (of advert_int for VRRPv3). Too close, and a backup scheduled late
    loses the takeover to the one below it (docs/failover.md, "Two backups, one takeover")."""
    ka = spec.keepalived
    prio, n, advert = ka.priority, spec.load_balancers.count, float(ka.advert_int)
    gap = vrrp.takeover_gap(prio.step, ka.vrrp_version, advert)
    if gap >= vrrp.MIN_TAKEOVER_GAP_S:
        return
    unit = f"advert_int {advert:g} s" if ka.vrrp_version == 3 else "1 s (VRRPv2)"
    wanted = vrrp.step_for_gap(ka.vrrp_version, advert)
    room = min(50, (prio.backup - 1) // (n - 2))  # the ladder's lowest backup stays >= 1
    limit = f"{vrrp.MIN_TAKEOVER_GAP_S * 1000:g} ms"
    if wanted <= room:
        advice = (
            f"use step: {wanted} or more ("
            f"{vrrp.takeover_gap(wanted, ka.vrrp_version, advert) * 1000:.1f} ms)"
        )
    elif wanted > 50:  # only VRRPv3's short adverts: step is at most 50
        least = math.ceil(round(vrrp.MIN_TAKEOVER_GAP_S * 256 / 50 * 100, 9)) / 100
        advice = (
            f"no step reaches {limit} at advert_int {advert:g} s (step: {wanted} would be "
            f"needed; steps stop at 50): use advert_int {least:g} or more"
        )
    else:
        advice = (
            f"step: {wanted} would reach it, but with {n} load balancers the ladder then "
            f"needs backup {wanted * (n - 2) + 1} or more (it is {prio.backup}): raise "
            "backup (and master) or advert_int"
        )
    found.add(
        ("keepalived", "priority", "step"),
        f"backups {prio.step} priority point(s) apart fire their takeover timers "
        f"{gap * 1000:.1f} ms apart (step {prio.step} x {unit} / 256); under {limit} a "
        "backup scheduled late loses the takeover to the one below it, and the EIP moves "
        f"again after preempt_delay: {advice}",
        Severity.WARNING,
    )


def _haproxy(spec: Spec, found: Findings) -> None:
    hap = spec.haproxy
    for label, values in (
        ("name", [f.name for f in hap.frontends]),
        ("port", [f.port for f in hap.frontends]),
    ):
        dup = _duplicates(values)
        for fi, value in enumerate(values):
            if value in dup:
                found.add(
                    ("haproxy", "frontends", fi, label),
                    f"frontend {label} {value} is used more than once",
                )
    for fi, fe in enumerate(hap.frontends):
        if fe.port == 22:
            found.add(("haproxy", "frontends", fi, "port"), "port 22 is SSH on the load balancers")
        if hap.stats and fe.port == hap.stats.port:
            found.add(("haproxy", "stats", "port"), f"stats port {fe.port} is also a frontend")
    if hap.sticky_cookie and all(f.mode == "tcp" for f in hap.frontends):
        found.add(("haproxy", "sticky_cookie"), "cookie stickiness needs an http frontend")
    if spec.backends.health_check_path and all(f.mode == "tcp" for f in hap.frontends):
        found.add(("backends", "health_check_path"), "HTTP health checks need an http frontend")


def _access(spec: Spec, found: Findings) -> None:
    demo = spec.backends.demo is not None or any(p.demo for p in spec.pools)
    if spec.access.management == "ssm" and demo:
        found.add(
            ("access", "management"),
            "demo backends are managed over SSH from ssh_cidrs and have no instance role for "
            "Session Manager: with `management: ssm` put the tier in front of existing servers",
        )
    for ci, cidr in enumerate(spec.access.ssh_cidrs):
        if IPv4Network(cidr).prefixlen == 0:
            found.add(
                ("access", "ssh_cidrs", ci),
                "SSH from anywhere is refused: list the networks your admins and CI connect from",
            )
    if spec.haproxy.stats:
        for ci, cidr in enumerate(spec.haproxy.stats.cidrs):
            if IPv4Network(cidr).prefixlen == 0:
                found.add(
                    ("haproxy", "stats", "cidrs", ci),
                    "the stats page from anywhere is refused: list your admin networks",
                )
