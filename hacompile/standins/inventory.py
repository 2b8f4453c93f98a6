"""What a bundle's generated inventory says about its load balancers, and what Terraform's
outputs would add to it.

Why apart from the Ansible run: the inventory (`ansible/inventory/hacompile.yml`) is the
bundle's own statement of which host carries which VRRP instance, slot IP and peers, and it is
needed before anything is rendered: the EIP-script checker creates matching resources in moto
from it. The fixtures (`RegionFixture` and its parts) are the Terraform-output half that
verify and the lab hand ansible_render, which writes them as `terraform-<region>.json` (per LB
`eni_id`, `instance_id`, `ansible_host`; per region `hacompile_eips`). Reads YAML with ruamel
(a runtime dependency); no tool needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "EipFixture",
    "HostFixture",
    "LbHost",
    "RegionFixture",
    "VrrpInstance",
    "auth_password",
    "bundle_regions",
    "fixture_for",
    "lb_hosts",
    "region_groups",
    "terraform_inventory",
    "vip_names",
]


@dataclass(frozen=True)
class VrrpInstance:
    name: str
    vrid: int
    priority: int
    slot_ip: str
    master: bool
    # A private VIP's instance (spec regions[].vips): how the claim moves it and where to.
    strategy: str = "eip"  # | route | secondary_ip
    address: str = ""
    route_tables: tuple[str, ...] = ()  # route: the existing tables the spec names
    own_route_table: bool = False  # route: also the bundle's own (hacompile_route_table_id)


@dataclass(frozen=True)
class LbHost:
    """One load balancer as the generated inventory (hacompile.yml) describes it."""

    region: str
    host: str  # inventory hostname
    group: str  # region group, e.g. us_east_1
    management_ip: str  # keepalived_unicast_src_ip, the primary private IP
    peers: tuple[str, ...]
    instances: tuple[VrrpInstance, ...]


@dataclass(frozen=True)
class HostFixture:
    eni_id: str
    instance_id: str
    ansible_host: str = "192.0.2.10"


@dataclass(frozen=True)
class EipFixture:
    allocation_id: str
    public_ip: str


@dataclass(frozen=True)
class RegionFixture:
    """What `terraform output ansible_inventory` would say for one region."""

    hosts: Mapping[str, HostFixture]  # inventory hostname -> IDs (load balancers only)
    eips: Mapping[str, EipFixture]  # VRRP instance name (eip1...) -> allocation
    vips: tuple[str, ...] = ()  # the private VIPs' instance names (they need passwords too)
    # STAND-IN for the module's `hacompile_route_table_id` output (the bundle's own route
    # table), set only where a route VIP uses it; "" leaves the group var out.
    route_table_id: str = ""


def _inventory(bundle: Path) -> dict[str, Any]:
    from ruamel.yaml import YAML

    path = bundle / "ansible" / "inventory" / "hacompile.yml"
    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def region_groups(bundle: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """region name -> (group name, group body) for every group carrying hacompile_region."""
    children = (_inventory(bundle).get("all") or {}).get("children") or {}
    found = {}
    for group, body in children.items():
        region = ((body or {}).get("vars") or {}).get("hacompile_region")
        if region:
            found[str(region)] = (str(group), body)
    return found


def bundle_regions(bundle: Path) -> tuple[str, ...]:
    """The regions of a bundle, in inventory order."""
    return tuple(region_groups(bundle))


def lb_hosts(bundle: Path, region: str) -> tuple[LbHost, ...]:
    """The load balancers of `region` with their VRRP instances, from hacompile.yml."""
    group, body = region_groups(bundle)[region]
    hosts = (((body.get("children") or {}).get(f"{group}_lb") or {}).get("hosts")) or {}
    result = []
    for host, hv in hosts.items():
        instances = tuple(
            VrrpInstance(
                str(i["name"]),
                int(i["vrid"]),
                int(i["priority"]),
                str(i["slot_ip"]),
                bool(i["master"]),
                str(i.get("strategy", "eip")),
                str(i.get("address", "")),
                tuple(str(t) for t in i.get("route_tables") or []),
                bool(i.get("own_route_table", False)),
            )
            for i in hv.get("keepalived_instances") or []
        )
        result.append(
            LbHost(
                region,
                str(host),
                group,
                str(hv["keepalived_unicast_src_ip"]),
                tuple(str(p) for p in hv.get("keepalived_unicast_peers") or []),
                instances,
            )
        )
    return tuple(result)


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def fixture_for(bundle: Path, region: str) -> RegionFixture:
    """Deterministic, well-formed fake IDs (eni-/i-/eipalloc- + 17 hex, TEST-NET-3 IPs)."""
    lbs = lb_hosts(bundle, region)
    hosts = {
        lb.host: HostFixture(
            f"eni-{_hex('eni' + lb.host, 17)}", f"i-{_hex('i' + lb.host, 17)}", f"192.0.2.{10 + n}"
        )
        for n, lb in enumerate(lbs)
    }
    names = sorted({i.name for lb in lbs for i in lb.instances if i.strategy == "eip"})
    eips = {
        name: EipFixture(f"eipalloc-{_hex(region + name, 17)}", f"203.0.113.{10 + n}")
        for n, name in enumerate(names)
    }
    vips = vip_names(lbs)
    own = any(i.own_route_table for lb in lbs for i in lb.instances)
    return RegionFixture(hosts, eips, vips, f"rtb-{_hex('rtb' + region, 17)}" if own else "")


def vip_names(lbs: tuple[LbHost, ...]) -> tuple[str, ...]:
    """The private VIPs' instance names of one region's load balancers, sorted."""
    return tuple(sorted({i.name for lb in lbs for i in lb.instances if i.strategy != "eip"}))


def auth_password(region: str, instance: str) -> str:
    """The fixed VRRP password used for rendering: 8 characters, as keepalived uses."""
    return "hc" + _hex(f"{region}/{instance}", 6)


def terraform_inventory(region: str, group: str, fixture: RegionFixture) -> dict[str, Any]:
    """The Terraform-output inventory, plus the region's fixed VRRP passwords as group vars."""
    hosts = {
        name: {"ansible_host": h.ansible_host, "instance_id": h.instance_id, "eni_id": h.eni_id}
        for name, h in fixture.hosts.items()
    }
    eips = {
        name: {"allocation_id": e.allocation_id, "public_ip": e.public_ip}
        for name, e in fixture.eips.items()
    }
    passwords = {name: auth_password(region, name) for name in (*fixture.eips, *fixture.vips)}
    group_vars: dict[str, Any] = {"hacompile_eips": eips, "keepalived_auth_passwords": passwords}
    if fixture.route_table_id:
        group_vars["hacompile_route_table_id"] = fixture.route_table_id
    return {"all": {"children": {group: {"vars": group_vars, "hosts": hosts}}}}
