"""The bundle's own LB artefacts for the lab, rendered by Ansible from the bundle's roles.

Why Ansible and not a re-implementation: the lab must exercise what `ansible-playbook site.yml`
would put on a load balancer. `hacompile.standins.ansible_render` runs the roles' own template
steps over a copy of the bundle with the Terraform-output inventory filled from a fixture; the
lab's fixture is the IDs its moto server handed out. Lab-only values (users that do not exist
here, limits of this machine) go in as Ansible extra vars, and each is reported with its reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hacompile.lab.netns import LabError
from hacompile.lab.topology import Topology


@dataclass(frozen=True)
class Rendered:
    """Per LB key, the directory holding keepalived.conf, haproxy.cfg and eip/*.env."""

    dirs: dict[str, Path]
    substitutions: tuple[str, ...]


def render(
    bundle: Path,
    topo: Topology,
    ids: dict[str, Any],
    out: Path,
    extra: dict[str, Any],
    reasons: dict[str, str],
) -> Rendered:
    """Render every LB of `topo` from `bundle` (a written bundle directory) into `out`."""
    from hacompile.standins.ansible_render import RenderError, bundled_lua, render_region
    from hacompile.standins.inventory import EipFixture, HostFixture, RegionFixture
    from hacompile.standins.tls import bundle_tls_items, standin_tls
    from hacompile.verify.base import Unavailable

    fixture = RegionFixture(
        hosts={
            lb.inventory_host: HostFixture(
                ids["enis"][lb.key]["eni_id"], ids["enis"][lb.key]["instance_id"], lb.ip
            )
            for lb in topo.lbs
        },
        eips={
            key: EipFixture(e["allocation_id"], e["public_ip"]) for key, e in ids["eips"].items()
        },
    )
    extra = {**extra, **vip_vars(topo, ids)}
    try:
        rendered = render_region(
            bundle, topo.region, out, fixture, interface="eth0", extra_vars=extra
        )
    except Unavailable as exc:
        raise LabError(f"{exc}: the lab renders its configs with Ansible") from None
    except RenderError as exc:
        raise LabError(str(exc)) from None
    by_host = {r.lb.host: r.directory for r in rendered}
    subs = [f"{name} = {json.dumps(extra[name])}: {reason}" for name, reason in reasons.items()]
    if topo.vips:
        subs.append(
            "hacompile_route_table_id, keepalived_auth_passwords (Ansible extra vars): the "
            "route table moto made for the bundle's own (Terraform output), and fixed VRRP "
            "passwords for the VIP instances too"
        )
    tls_items = bundle_tls_items(bundle)
    for r in rendered:
        text = r.haproxy_cfg.read_text(encoding="utf-8")
        checked = standin_tls(bundled_lua(text, bundle), tls_items, r.directory / "tls")
        if checked != text:
            r.haproxy_cfg.write_text(checked, encoding="utf-8")
    if tls_items:
        subs.append(
            "haproxy.cfg crt/ca-file: throw-away self-signed certificates covering each "
            "certificate's names (the namespace lab runs no certificate sync; the booted lab "
            "does)"
        )
    if any("lua-load" in r.haproxy_cfg.read_text(encoding="utf-8") for r in rendered):
        subs.append(
            "haproxy.cfg lua-load: the bundle's Lua file, where the haproxy role would have "
            "installed it (the namespace lab runs no play)"
        )
    subs.append(
        "ansible_default_ipv4 = {address: <LB IP>, interface: eth0} and fixed VRRP "
        "passwords (keepalived_auth_source: provided): no facts, no SSM in the lab"
    )
    return Rendered({lb.key: by_host[lb.inventory_host] for lb in topo.lbs}, tuple(subs))


def vip_vars(topo: Topology, ids: dict[str, Any]) -> dict[str, Any]:
    """With private VIPs: what Terraform's inventory output adds for them (the bundle's own
    route table, `hacompile_route_table_id`) and the fixed VRRP passwords of every instance,
    VIPs included (the fixture's passwords cover the EIPs only). {} without VIPs."""
    from hacompile.standins.inventory import auth_password

    if not topo.vips:
        return {}
    out: dict[str, Any] = {
        "keepalived_auth_passwords": {
            key: auth_password(topo.region, key)
            for key in [*ids["eips"], *(v.key for v in topo.vips)]
        }
    }
    tables = sorted({t for ts in ids.get("route_tables", {}).values() for t in ts})
    if tables:
        out["hacompile_route_table_id"] = tables[0]
    return out
