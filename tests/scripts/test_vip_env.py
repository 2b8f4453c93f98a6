"""The interface between the keepalived role and hacompile-eip-claim for private VIPs (issue 15):
the eip.env.j2 a VIP bundle carries (hacompile's pass, from the blueprint's real plan), rendered
for the inventory's own VIP items (Ansible's pass, here with Jinja2 under Ansible's trim_blocks),
is accepted by the claim, which then moves the VIP on moto.

The Ansible variables that only exist on a deployed host (eni_id, Terraform's
hacompile_route_table_id) are the rig's moto IDs; everything else comes from the bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from ruamel.yaml import YAML
from scriptlab import ClaimRig

from hacompile.pipeline import compile_spec
from hacompile.standins.moto import ec2_client

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "ansible/roles/keepalived/templates/eip.env.j2"
INVENTORY = "ansible/inventory/hacompile.yml"


def _bundle(blueprint: str) -> dict[str, str]:
    files = compile_spec(ROOT / "blueprints" / f"{blueprint}.yaml").bundle.files
    return {str(f.path): f.content.decode() for f in files if f.path.suffix in {".j2", ".yml"}}


def _item(files: dict[str, str], host: str, name: str) -> dict[str, Any]:
    """VRRP instance `name` of inventory host `host`, as the bundle's inventory lists it."""
    inventory = YAML(typ="safe", pure=True).load(files[INVENTORY])
    for region in inventory["all"]["children"].values():
        for group in (region or {}).get("children", {}).values():
            hv = ((group or {}).get("hosts") or {}).get(host)
            if hv:
                return next(i for i in hv["keepalived_instances"] if i["name"] == name)
    raise KeyError(host)


def _render(files: dict[str, str], claim: ClaimRig, item: dict[str, Any], **facts: Any) -> str:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True
    )
    eip = claim.lab.eips[0]
    text = env.from_string(files[TEMPLATE]).render(
        ansible_managed="Ansible managed",
        hacompile_region=claim.lab.region,
        hacompile_eips={
            item["name"]: {"allocation_id": eip.allocation_id, "public_ip": eip.public_ip}
        },
        eni_id=claim.lab.enis[0].eni_id,
        item=item,
        **facts,
    )
    claim.env_file.write_text(text, encoding="utf-8")
    return text


def _keys(text: str) -> list[str]:
    return [ln.split("=", 1)[0] for ln in text.splitlines() if ln and not ln.startswith("#")]


def _target(claim: ClaimRig, rtb: str, dest: str) -> str | None:
    ec2 = ec2_client(claim.proxy.upstream, claim.lab.region)
    (table,) = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"]
    routes = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == dest]
    return str(routes[0]["NetworkInterfaceId"]) if routes else None


def test_route_vip_env_file_is_accepted_and_moves_the_own_tables_route(claim: ClaimRig) -> None:
    files = _bundle("internal-route-vip")
    item = _item(files, "internal-eu-central-1-lb1", "api")
    ours, peer = claim.lab.enis[0].eni_id, claim.lab.enis[1].eni_id
    ec2 = ec2_client(claim.proxy.upstream, claim.lab.region)
    rtb = str(ec2.create_route_table(VpcId=claim.lab.vpc_id)["RouteTable"]["RouteTableId"])
    dest = f"{item['address']}/32"
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=dest, NetworkInterfaceId=peer)

    text = _render(files, claim, item, hacompile_route_table_id=rtb)

    assert _keys(text) == [
        *("STRATEGY", "REGION", "ENI_ID", "VIP", "ROUTE_TABLES", "OWNER"),
        *("ATTEMPTS", "BUDGET_SECONDS"),
    ]
    assert "STRATEGY='route'\n" in text and f"ROUTE_TABLES='{rtb}'\n" in text
    assert "VIP='172.31.255.10'\n" in text and "OWNER='yes'\n" in text
    result = claim.run()
    assert result.rc == 0, f"{result.stderr}\n--- rendered env file:\n{text}"
    assert _target(claim, rtb, dest) == ours


def test_route_vip_names_the_listed_tables_then_the_own_one(claim: ClaimRig) -> None:
    """ROUTE_TABLES: the spec's tables, then hacompile_route_table_id when own_route_table,
    joined by single spaces (the claim's grammar)."""
    files = _bundle("internal-route-vip")
    item = _item(files, "internal-eu-central-1-lb2", "api")
    ec2 = ec2_client(claim.proxy.upstream, claim.lab.region)
    tables = [
        str(ec2.create_route_table(VpcId=claim.lab.vpc_id)["RouteTable"]["RouteTableId"])
        for _ in range(3)
    ]
    named = item | {"route_tables": tables[:2], "own_route_table": False}
    both = item | {"route_tables": tables[:2], "own_route_table": True}

    assert f"ROUTE_TABLES='{tables[0]} {tables[1]}'\n" in _render(files, claim, named)
    text = _render(files, claim, both, hacompile_route_table_id=tables[2])
    assert f"ROUTE_TABLES='{' '.join(tables)}'\n" in text
    assert "OWNER='no'\n" in text
    result = claim.run()
    assert result.rc == 0, f"{result.stderr}\n--- rendered env file:\n{text}"
    dest = f"{item['address']}/32"
    assert [_target(claim, t, dest) for t in tables] == [claim.lab.enis[0].eni_id] * 3


def test_secondary_ip_vip_env_file_is_accepted_and_reassigns_the_vip(claim: ClaimRig) -> None:
    files = _bundle("internal-secondary-ip")
    item = _item(files, "internal-ip-eu-west-1-lb3", "db")
    ours, peer = claim.lab.enis[0].eni_id, claim.lab.enis[1].eni_id
    ec2 = ec2_client(claim.proxy.upstream, claim.lab.region)
    ec2.assign_private_ip_addresses(NetworkInterfaceId=peer, PrivateIpAddresses=[item["address"]])

    text = _render(files, claim, item)

    assert _keys(text) == [
        *("STRATEGY", "REGION", "ENI_ID", "PRIVATE_IP", "OWNER", "ATTEMPTS", "BUDGET_SECONDS")
    ]
    assert "PRIVATE_IP='10.30.1.50'\n" in text and "OWNER='no'\n" in text
    result = claim.run()
    assert result.rc == 0, f"{result.stderr}\n--- rendered env file:\n{text}"
    (call,) = claim.proxy.calls("AssignPrivateIpAddresses")
    assert call.params["NetworkInterfaceId"] == ours
    assert call.params["PrivateIpAddress.1"] == "10.30.1.50"


def test_eip_env_file_of_a_vip_bundle_is_accepted_unchanged(claim: ClaimRig) -> None:
    """A VIP bundle's template has the strategy branches; its EIP items still get exactly the
    EIP file of a bundle without VIPs (no STRATEGY line)."""
    files = _bundle("internal-secondary-ip")
    item = _item(files, "internal-ip-eu-west-1-lb1", "eip1") | {
        "slot_ip": claim.lab.enis[0].slots[0]
    }

    text = _render(files, claim, item)

    assert _keys(text) == [
        *("REGION", "ALLOCATION_ID", "PUBLIC_IP", "ENI_ID", "PRIVATE_IP", "OWNER"),
        *("ATTEMPTS", "BUDGET_SECONDS"),
    ]
    without_vips = _bundle("blog-aws-keepalived")
    assert text == _render(without_vips, claim, item)
    result = claim.run()
    assert result.rc == 0, f"{result.stderr}\n--- rendered env file:\n{text}"
