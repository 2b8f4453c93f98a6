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
        vips=tuple(v.key for v in topo.vips),
        route_table_id=own_route_table(ids),
    )
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
    if fixture.route_table_id:
        subs.append(
            f"hacompile_route_table_id = {fixture.route_table_id}: the route table the lab's "
            "cloud made as the bundle's own (Terraform's output), with the VIPs' /32 routes"
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


def own_route_table(ids: dict[str, Any]) -> str:
    """The route table moto made as the bundle's own (Terraform's `hacompile_route_table_id`
    output), '' where no route VIP uses it."""
    tables = sorted({t for ts in ids.get("route_tables", {}).values() for t in ts})
    return tables[0] if tables else ""
