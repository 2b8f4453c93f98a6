"""Private VIPs in the plan (hacompile.plan.vips): owners, holders, VRIDs and priorities, and
the addresses a secondary VIP keeps from every other pick. The rules' messages are in
tests/invalid/vip-rules.yaml(.expected)."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from hacompile.load import load
from hacompile.plan.build import build_plan
from hacompile.plan.model import Plan
from hacompile.validate import validate
from tests.conftest import ROOT

ROUTE = ROOT / "blueprints" / "internal-route-vip.yaml"
SECONDARY = ROOT / "blueprints" / "internal-secondary-ip.yaml"


def _plan(path: Path) -> Plan:
    return build_plan(validate(load(path)).spec, path.name)


def _variant(tmp_path: Path, base: Path, vips: list[dict[str, object]], **lbs: object) -> Path:
    yaml = YAML()
    data = yaml.load(base.read_text())
    data["regions"][0]["vips"] = vips
    data["load_balancers"].update(lbs)
    out = tmp_path / "ha.yaml"
    with out.open("w") as fh:
        yaml.dump(data, fh)
    return out


def _instances(plan: Plan) -> dict[str, dict[str, tuple[int, int, bool, str, str]]]:
    return {
        lb.key: {
            i.name: (i.vrid, i.priority, i.master, i.strategy, i.address) for i in lb.instances
        }
        for lb in plan.regions[0].load_balancers
    }


def test_route_vips_follow_the_eips_and_spread_over_the_load_balancers() -> None:
    region = _plan(ROUTE).regions[0]
    assert [(v.name, v.vrid, v.master, v.holders, v.own_route_table) for v in region.vips] == [
        ("api", 53, "lb1", ("lb1", "lb2"), True),
        ("mesh", 54, "lb2", ("lb2", "lb1"), True),
    ]
    got = _instances(_plan(ROUTE))
    assert got["lb1"]["api"] == (53, 102, True, "route", "172.31.255.10")
    assert got["lb2"]["api"] == (53, 100, False, "route", "172.31.255.10")
    assert got["lb2"]["mesh"] == (54, 102, True, "route", "172.31.255.11")
    # the EIP instances come first and are what they always were
    assert list(got["lb1"]) == ["eip1", "eip2", "api", "mesh"]
    assert got["lb1"]["eip1"] == (51, 102, True, "eip", "")


def test_a_secondary_vip_lives_only_on_its_holders() -> None:
    plan = _plan(SECONDARY)
    (vip,) = plan.regions[0].vips
    assert (vip.master, vip.holders, vip.subnet_key, vip.vrid) == ("lb1", ("lb1", "lb3"), "a", 54)
    got = _instances(plan)
    assert got["lb1"]["db"] == (54, 110, True, "secondary_ip", "10.30.1.50")
    assert got["lb3"]["db"] == (54, 100, False, "secondary_ip", "10.30.1.50")
    assert "db" not in got["lb2"]  # lb2 is in the other zone: it never adds the address


def test_listed_holders_set_the_takeover_order(tmp_path: Path) -> None:
    spec = _variant(
        tmp_path,
        ROUTE,
        [
            {
                "name": "api",
                "strategy": "route",
                "address": "172.31.255.10",
                "load_balancers": ["lb3", "lb1", "lb2"],
            }
        ],
        count=3,
    )
    got = _instances(_plan(spec))
    assert [got[k]["api"][1:3] for k in ("lb3", "lb1", "lb2")] == [
        (102, True),
        (100, False),
        (90, False),
    ]


def test_unlisted_owners_rotate(tmp_path: Path) -> None:
    vips = [
        {"name": f"v{i}", "strategy": "route", "address": f"172.31.255.{i}"} for i in range(1, 5)
    ]
    plan = _plan(_variant(tmp_path, ROUTE, vips, count=3))
    assert [v.master for v in plan.regions[0].vips] == ["lb1", "lb2", "lb3", "lb1"]
    assert [v.vrid for v in plan.regions[0].vips] == [54, 55, 56, 57]


def test_no_pick_lands_on_a_secondary_vip(tmp_path: Path) -> None:
    """lb1's management IP would be 10.30.1.10: a VIP there moves lb1 (and what follows it)
    one address on, as a `taken` address would; the route VIP of the other blueprint takes
    nothing from the subnets."""
    before = _plan(SECONDARY).regions[0].load_balancers[0]
    assert before.private_ip == "10.30.1.10"
    spec = _variant(
        tmp_path,
        SECONDARY,
        [
            {
                "name": "db",
                "strategy": "secondary_ip",
                "address": "10.30.1.10",
                "load_balancers": ["lb1", "lb3"],
            }
        ],
    )
    lb1 = _plan(spec).regions[0].load_balancers[0]
    assert lb1.private_ip == "10.30.1.11"
    assert "10.30.1.10" not in lb1.slot_ips
    assert _plan(ROUTE).regions[0].load_balancers[0].private_ip.endswith(".10")
