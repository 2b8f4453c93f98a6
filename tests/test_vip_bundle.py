"""The host side of private VIPs (issue 15) in a built bundle: the inventory's VIP items, and what
Ansible renders from them (the real role templates, through hacompile.standins.ansible_render):
one env file per instance in the claim's grammar per strategy, and a keepalived stanza that adds
the VIP on the interface (VRRPv2 and v3; v3's link-local placeholder only for EIP instances).
The configs then pass verify's keepalived checker (`keepalived -t` and a start, as root)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from hacompile.pipeline import compile_spec

ROOT = Path(__file__).resolve().parents[1]
EIP_KEYS = {"name", "vrid", "priority", "master", "slot_ip"}


def _build(spec: Path, out: Path) -> Path:
    for f in compile_spec(spec).bundle.files:
        path = out / str(f.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.content)
    return out


def _spec(tmp_path: Path, blueprint: str, **keepalived: Any) -> Path:
    """The blueprint, with `keepalived` settings merged in (written next to the bundle)."""
    yaml = YAML(typ="safe", pure=True)
    data = yaml.load((ROOT / "blueprints" / f"{blueprint}.yaml").read_text())
    data["keepalived"] = {**(data.get("keepalived") or {}), **keepalived}
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    path = tmp_path / f"{blueprint}.yaml"
    path.write_text(buffer.getvalue())
    return path


def _hosts(bundle: Path) -> dict[str, Any]:
    inventory = YAML(typ="safe", pure=True).load(
        (bundle / "ansible/inventory/hacompile.yml").read_text()
    )
    out = {}
    for region in inventory["all"]["children"].values():
        for group in ((region or {}).get("children") or {}).values():
            out |= (group or {}).get("hosts") or {}
    return out


def _instances(bundle: Path, host: str) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in _hosts(bundle)[host]["keepalived_instances"]}


def test_inventory_items_of_vip_instances(tmp_path: Path) -> None:
    route = _build(ROOT / "blueprints/internal-route-vip.yaml", tmp_path / "route")
    lb1 = _instances(route, "internal-eu-central-1-lb1")
    assert lb1["api"] == {
        "name": "api",
        "vrid": 53,
        "priority": 102,
        "master": True,
        "slot_ip": "",
        "strategy": "route",
        "address": "172.31.255.10",
        "route_tables": [],
        "own_route_table": True,
    }
    assert set(lb1["eip1"]) == EIP_KEYS  # EIP items exactly as before VIPs
    second = _build(ROOT / "blueprints/internal-secondary-ip.yaml", tmp_path / "secondary")
    held = {
        host: _instances(second, host).get("db")
        for host in _hosts(second)
        if host.endswith(("-lb1", "-lb2", "-lb3"))
    }
    assert held["internal-ip-eu-west-1-lb2"] is None  # not a holder: no instance
    assert held["internal-ip-eu-west-1-lb1"] == {
        "name": "db",
        "vrid": 54,
        "priority": 110,
        "master": True,
        "slot_ip": "",
        "strategy": "secondary_ip",
        "address": "10.30.1.50",
    }
    lb3 = held["internal-ip-eu-west-1-lb3"]
    assert lb3 is not None and (lb3["master"], lb3["priority"]) == (False, 100)


def _block(conf: str, name: str) -> str:
    m = re.search(rf"^vrrp_instance {name} \{{\n(.*?)^\}}$", conf, re.MULTILINE | re.DOTALL)
    assert m, name
    return m[1]


def _virtual(block: str) -> list[str]:
    found = re.findall(r"^    virtual_ipaddress \{\n(.*?)^    \}$", block, re.MULTILINE | re.DOTALL)
    return [" ".join(ln.split()) for body in found for ln in body.splitlines() if ln.strip()]


def _env(path: Path) -> dict[str, str]:
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return dict(re.fullmatch(r"([A-Z_]+)='([^']*)'", ln).groups() for ln in lines)  # type: ignore[union-attr]


@pytest.mark.tools  # ansible-playbook
def test_ansible_renders_vip_env_files_and_stanzas(tmp_path: Path) -> None:
    from hacompile.standins.ansible_render import render_bundle
    from hacompile.standins.inventory import fixture_for

    route = _build(ROOT / "blueprints/internal-route-vip.yaml", tmp_path / "route")
    (lb1, lb2) = render_bundle(route, tmp_path / "render-route")
    rtb = fixture_for(route, "eu-central-1").route_table_id
    assert rtb.startswith("rtb-")
    hosts = fixture_for(route, "eu-central-1").hosts
    assert _env(lb1.eip_env["api"]) == {
        "STRATEGY": "route",
        "REGION": "eu-central-1",
        "ENI_ID": hosts[lb1.lb.host].eni_id,
        "VIP": "172.31.255.10",
        "ROUTE_TABLES": rtb,
        "OWNER": "yes",
        "ATTEMPTS": "8",
        "BUDGET_SECONDS": "60",
    }
    assert _env(lb2.eip_env["api"])["OWNER"] == "no"
    assert "STRATEGY" not in _env(lb1.eip_env["eip1"])
    conf = lb1.keepalived_conf.read_text()
    assert _virtual(_block(conf, "api")) == ["172.31.255.10/32 dev ens5"]
    assert _virtual(_block(conf, "mesh")) == ["172.31.255.11/32 dev ens5"]
    assert _virtual(_block(conf, "eip1")) == []  # VRRPv2: the EIP instances add nothing

    second = _build(ROOT / "blueprints/internal-secondary-ip.yaml", tmp_path / "secondary")
    rendered = {lb.lb.host.rsplit("-", 1)[1]: lb for lb in render_bundle(second, tmp_path / "r2")}
    assert sorted(k for k, lb in rendered.items() if "db" in lb.eip_env) == ["lb1", "lb3"]
    assert _env(rendered["lb3"].eip_env["db"]) == {
        "STRATEGY": "secondary_ip",
        "REGION": "eu-west-1",
        "ENI_ID": fixture_for(second, "eu-west-1").hosts[rendered["lb3"].lb.host].eni_id,
        "PRIVATE_IP": "10.30.1.50",
        "OWNER": "no",
        "ATTEMPTS": "8",
        "BUDGET_SECONDS": "60",
    }
    assert "vrrp_instance db" not in rendered["lb2"].keepalived_conf.read_text()


@pytest.mark.tools  # ansible-playbook
def test_vrrp3_keeps_the_placeholder_for_eip_instances_only(tmp_path: Path) -> None:
    from hacompile.standins.ansible_render import render_bundle

    spec = _spec(tmp_path, "internal-route-vip", vrrp_version=3, auth=False)
    bundle = _build(spec, tmp_path / "v3")
    lb1 = render_bundle(bundle, tmp_path / "render")[0]
    conf = lb1.keepalived_conf.read_text()
    assert _virtual(_block(conf, "api")) == ["172.31.255.10/32 dev ens5"]
    assert _virtual(_block(conf, "eip1")) == ["169.254.253.51/32 dev lo"]


@pytest.mark.root  # the keepalived checker's network namespace
@pytest.mark.tools
@pytest.mark.parametrize("version", [2, 3])
def test_vip_keepalived_configs_pass_keepalived(tmp_path: Path, version: int) -> None:
    from hacompile.verify.runner import run_checks

    spec = _spec(tmp_path, "internal-route-vip", vrrp_version=version, auth=version == 2)
    bundle = _build(spec, tmp_path / "bundle")
    (result,) = run_checks(bundle, only=["keepalived"])
    assert result.status.value == "passed", (result.findings, result.detail)
