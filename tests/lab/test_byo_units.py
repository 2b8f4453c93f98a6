"""Bring your own network in the lab, without root: the spec's copy with the created IDs, the
existing network made in moto (on loopback), the LBs' interfaces put into it, and the checks
that find a second VPC, a taken address or a missing route."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from hacompile.lab import byo, existing_net
from hacompile.lab.cloud import seed
from hacompile.lab.compile import compile_for_lab
from hacompile.lab.topology import build
from hacompile.standins.moto import MotoServer, ec2_client

REPO = Path(__file__).resolve().parents[2]
BYO = REPO / "blueprints" / "existing-vpc.yaml"
BLOG = REPO / "blueprints" / "blog-aws-keepalived.yaml"
REGION = "eu-central-1"
CREATED: dict[str, Any] = {
    "vpc_id": "vpc-" + "1" * 17,
    "igw_id": "igw-" + "2" * 17,
    "route_table_id": "rtb-" + "3" * 17,
    "subnets": [
        {"zone": "eu-central-1a", "cidr": "10.80.1.0/24", "subnet_id": "subnet-" + "4" * 17},
        {"zone": "eu-central-1b", "cidr": "10.80.2.0/24", "subnet_id": "subnet-" + "5" * 17},
    ],
    "security_groups": {"sg-0a1b2c3d4e5f60799": "sg-" + "6" * 17},
    "taken": {},
}


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return compile_for_lab(BYO, tmp_path_factory.mktemp("layout") / "bundle")


def test_the_spec_names_its_existing_network(layout: Any) -> None:
    ex = byo.existing(layout.spec, REGION)
    assert ex is not None
    assert ex.vpc_id == "vpc-0a1b2c3d4e5f60718" and ex.vpc_cidr == "10.80.0.0/16"
    assert ex.subnets == (
        ("eu-central-1a", "10.80.1.0/24", "subnet-0a1b2c3d4e5f60701"),
        ("eu-central-1b", "10.80.2.0/24", "subnet-0a1b2c3d4e5f60702"),
    )
    assert ex.security_groups == ("sg-0a1b2c3d4e5f60799",)
    assert ex.taken == ("10.80.1.10", "10.80.2.10")


def test_a_spec_that_creates_its_vpc_has_none(tmp_path: Path) -> None:
    blog = compile_for_lab(BLOG, tmp_path / "bundle")
    assert blog.spec is not None
    assert byo.existing(blog.spec, blog.plan.regions[0].name) is None
    assert byo.ignored(blog.spec) == []


def test_the_copy_changes_the_ids_and_nothing_else(layout: Any) -> None:
    ex = byo.existing(layout.spec, REGION)
    assert ex is not None
    text = BYO.read_text(encoding="utf-8")
    out = byo.rewrite(text, ex, CREATED)
    yaml = YAML(typ="safe")
    before, after = yaml.load(text), yaml.load(out)
    assert after["regions"][0]["vpc_id"] == CREATED["vpc_id"]
    assert [z["subnet_id"] for z in after["regions"][0]["zones"]] == [
        s["subnet_id"] for s in CREATED["subnets"]
    ]
    assert after["regions"][0]["security_groups"] == ["sg-" + "6" * 17]
    expected = copy.deepcopy(before)
    expected["regions"][0]["vpc_id"] = after["regions"][0]["vpc_id"]
    for z, zone in enumerate(expected["regions"][0]["zones"]):
        zone["subnet_id"] = after["regions"][0]["zones"][z]["subnet_id"]
    expected["regions"][0]["security_groups"] = after["regions"][0]["security_groups"]
    assert after == expected
    assert "# The tier inside an account" in out  # comments kept: it is the user's spec


def test_the_copy_compiles_to_the_same_layout_and_names_the_created_ids(
    layout: Any, tmp_path: Path
) -> None:
    ex = byo.existing(layout.spec, REGION)
    assert ex is not None
    own = byo.Byo(BYO, ex, tmp_path)
    copied = own.compile(CREATED)
    assert own.same_layout(layout.plan, copied.plan, 0, "hcl000001")
    region = copied.plan.regions[0]
    assert region.vpc_id == CREATED["vpc_id"]
    assert [s.id for s in region.subnets] == [s["subnet_id"] for s in CREATED["subnets"]]
    assert byo.check_bundle(copied.bundle_dir, ex, CREATED) == []
    # The spec's own bundle names the spec's IDs: the check tells them apart.
    problems = byo.check_bundle(layout.bundle_dir, ex, CREATED)
    assert any("still names the spec's vpc-0a1b2c3d4e5f60718" in p for p in problems)
    assert any("does not name " + CREATED["vpc_id"] in p for p in problems)


def test_substitutions_and_ignored_keys_are_named(layout: Any) -> None:
    ex = byo.existing(layout.spec, REGION)
    assert ex is not None
    lines = byo.substitutions(ex, CREATED)
    assert lines[0].startswith(
        f"regions[{REGION}].vpc_id: vpc-0a1b2c3d4e5f60718 -> {CREATED['vpc_id']}: "
    )
    assert len(lines) == 4  # the VPC, two subnets, one group
    ignored = byo.ignored(layout.spec)
    assert [line.split(":")[0] for line in ignored] == ["state", "dns", "security.ec2_endpoint"]


@pytest.fixture(scope="module")
def account(layout: Any) -> dict[str, Any]:
    """The existing network and the LBs' interfaces made in a fresh moto (loopback), as the
    lab's cloud host makes them, and the account described back; plus a second VPC made
    afterwards, to show the check notices."""
    ex = byo.existing(layout.spec, REGION)
    assert ex is not None
    topo = build(layout.plan.regions[0], "hcl000001")
    cfg = {
        "region": REGION,
        "lbs": [
            {"key": lb.key, "ip": lb.ip, "subnet_cidr": lb.subnet_cidr, "slots": list(lb.slots)}
            for lb in topo.lbs
        ],
        "eips": [{"key": e.key, "address": e.address} for e in topo.eips],
    }
    with MotoServer() as moto:
        ec2 = ec2_client(moto.url, REGION)
        created = existing_net.create(ec2, ex.cloud_config(Path("/nonexistent")))
        ids = seed(moto.url, cfg, created)
        net = existing_net.describe(ec2)
        ec2.create_vpc(CidrBlock="10.81.0.0/16")
        second = existing_net.describe(ec2)
    return {"ex": ex, "topo": topo, "created": created, "ids": ids, "net": net, "second": second}


def test_the_tier_goes_into_the_existing_network(account: dict[str, Any]) -> None:
    ex, topo, created, ids, net = (account[k] for k in ("ex", "topo", "created", "ids", "net"))
    assert set(created["taken"]) == {"10.80.1.10", "10.80.2.10"}
    assert ids["vpc_id"] == created["vpc_id"]
    report = byo.summary(net, ex, created, topo, ids["enis"])
    assert report["problems"] == []
    assert report["vpcs"] == 2 and report["vpcs_not_default"] == [created["vpc_id"]]
    assert report["lb_addresses"] and not set(report["lb_addresses"]) & set(ex.taken)
    zones = {s["id"]: s["zone"] for s in net["subnets"]}
    assert [zones[s["subnet_id"]] for s in created["subnets"]] == [
        "eu-central-1a",
        "eu-central-1b",
    ]
    for lb in topo.lbs:
        eni = next(e for e in net["enis"] if e["id"] == ids["enis"][lb.key]["eni_id"])
        assert set(created["security_groups"].values()) <= set(eni["groups"])


def test_a_second_vpc_is_found(account: dict[str, Any]) -> None:
    a = account
    wrong = byo.check_network(a["second"], a["ex"], a["created"], a["topo"], a["ids"]["enis"])
    assert len(wrong) == 1 and wrong[0].startswith("VPCs besides the default one")


def test_a_taken_address_on_an_lb_is_found(account: dict[str, Any]) -> None:
    a = account
    lb1 = a["topo"].lbs[0]
    moved = dataclasses.replace(lb1, slots=("10.80.1.10", *lb1.slots[1:]))
    topo = dataclasses.replace(a["topo"], lbs=(moved, *a["topo"].lbs[1:]))
    wrong = byo.check_network(a["net"], a["ex"], a["created"], topo, a["ids"]["enis"])
    assert "lb1: 10.80.1.10 is one of the taken addresses" in wrong


def test_a_missing_route_or_unheld_taken_address_is_found(account: dict[str, Any]) -> None:
    a = account
    net = copy.deepcopy(a["net"])
    for table in net["route_tables"]:
        table["routes"].pop("0.0.0.0/0", None)
    net["enis"] = [e for e in net["enis"] if "10.80.2.10" not in e["ips"]]
    wrong = byo.check_network(net, a["ex"], a["created"], a["topo"], a["ids"]["enis"])
    assert "no route 0.0.0.0/0 to the internet gateway" in wrong
    assert "taken 10.80.2.10: held by nothing, not another host" in wrong
