"""Issue 14, bring your own network: a region names an existing VPC (vpc_id) and per zone its
subnet (subnet_id + subnet_cidr); the bundle creates no VPC, gateway or route table there and
checks at plan time, with data sources and postconditions, that the account is what the spec
says. Real Terraform proves each postcondition refuses a network that differs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from hacompile.pipeline import compile_spec
from hacompile.verify.tfnetwork import existing_network
from hacompile.verify.tfprovider_stub import NETWORK_ENV
from hacompile.verify.tfreal import _Run, find_terraform
from tests.conftest import ROOT, invoke_cli
from tests.test_attack_surface import MOD, _args, _block
from tests.verify.test_tfreal import needs_terraform

MULTI = ROOT / "blueprints" / "community-multi-region.yaml"
VPC = "vpc-0123456789abcdef0"
SUBNETS = ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2")


def _byo(data: dict[str, Any]) -> None:
    region = data["regions"][0]  # eu-west-1 brings its own network; us-east-2 gets a new one
    region["vpc_id"] = VPC
    region["security_groups"] = ["sg-0123456789abcdef0"]
    region["zones"] = [
        {"name": f"eu-west-1{z}", "subnet_id": SUBNETS[i], "subnet_cidr": f"10.40.{i + 1}.0/24"}
        for i, z in enumerate("abc")
    ]


def _spec(tmp_path: Path, change: Any = _byo) -> Path:
    data = yaml.safe_load(MULTI.read_text())
    change(data)
    path = tmp_path / "ha.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _files(spec: Path) -> dict[str, str]:
    return {p: f.content.decode() for p, f in compile_spec(spec).bundle.by_path().items()}


def test_an_existing_vpc_is_read_and_checked_not_created(tmp_path: Path) -> None:
    files = _files(_spec(tmp_path))
    byo, new = _args(files, "eu-west-1"), _args(files, "us-east-2")
    assert byo["vpc_id"] == VPC and byo["security_group_ids"] == ["sg-0123456789abcdef0"]
    assert byo["subnets"]["a"] == {"zone": "eu-west-1a", "cidr": "10.40.1.0/24", "id": SUBNETS[0]}
    assert "vpc_id" not in new and "id" not in new["subnets"]["a"]
    network = files[MOD + "network.tf"]
    assert "count = var.vpc_id == null ? 1 : 0" in _block(network, 'resource "aws_vpc" "main"')
    assert "count = var.vpc_id == null ? 1 : 0" in _block(
        network, 'resource "aws_default_security_group" "default"'
    )  # never touch theirs
    for header in (
        'data "aws_vpc" "existing"',
        'data "aws_subnet" "existing"',
        'data "aws_route_table" "existing"',
    ):
        assert "postcondition" in _block(network, header), header
    lb = _block(files[MOD + "instances.tf"], 'resource "aws_instance" "lb"')
    assert "concat([aws_security_group.lb.id], var.security_group_ids)" in lb
    assert "subnet_id                   = local.subnet_ids[each.value.subnet]" in lb
    # a state of the one-root layout moves to the counted addresses
    assert re.search(
        r"from = aws_vpc.main\n  to   = module.ha.aws_vpc.main\[0\]",
        files["terraform/us-east-2/moved.tf"],
    )


def test_a_bundle_without_existing_networks_keeps_uncounted_resources() -> None:
    files = _files(MULTI)
    assert "var.vpc_id" not in files[MOD + "network.tf"]
    assert 'variable "vpc_id"' not in files[MOD + "variables.tf"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda d: (_byo(d), d["regions"][0]["zones"][1].pop("subnet_id")),
            "regions[0].zones[1]",
            "names its subnet: subnet_id and subnet_cidr",
        ),
        (
            lambda d: d["regions"][1]["zones"].__setitem__(
                0, {"name": "us-east-2a", "subnet_id": SUBNETS[0]}
            ),
            "regions[1].zones[0].subnet_id",
            "set vpc_id on the region",
        ),
        (
            lambda d: d["regions"][1].__setitem__("security_groups", ["sg-0123456789abcdef0"]),
            "regions[1].security_groups",
            "set vpc_id too",
        ),
        (
            lambda d: (
                _byo(d),
                d["regions"][0]["zones"][2].__setitem__("subnet_cidr", "10.99.3.0/24"),
            ),
            "regions[0].zones[2].subnet_cidr",
            "is not inside the VPC 10.40.0.0/16",
        ),
        (
            lambda d: (_byo(d), d["regions"][0]["zones"][2].__setitem__("subnet_id", SUBNETS[0])),
            "regions[0].zones[2].subnet_id",
            "listed more than once",
        ),
        (
            lambda d: (_byo(d), d["regions"][0].__setitem__("vpc_id", "vpc-123")),
            "regions[0].vpc_id",
            "VPC ID",
        ),
    ],
)
def test_a_bad_existing_network_is_a_located_error(
    tmp_path: Path, change: Any, field: str, words: str
) -> None:
    result = invoke_cli("validate", str(_spec(tmp_path, change)))
    assert result.returncode == 2, result.stdout
    line = next(x for x in result.stderr.splitlines() if f"error: {field}:" in x)
    assert re.match(re.escape(str(tmp_path / "ha.yaml")) + r":\d+:\d+: ", line)
    assert words in line, result.stderr


def _plan(tmp_path: Path, network: dict[str, Any]) -> Any:
    """Plan eu-west-1's root with the stand-in answering the existing network as `network`."""
    work = tmp_path / "work"
    for file in compile_spec(_spec(tmp_path)).bundle.files:
        if str(file.path).startswith("terraform/"):
            (work / file.path).parent.mkdir(parents=True, exist_ok=True)
            (work / file.path).write_bytes(file.content)
    root = work / "terraform" / "eu-west-1"
    terraform, _ = find_terraform()
    (tmp_path / "tf").mkdir()
    run = _Run(terraform, tmp_path / "tf")
    init = run.tf(root, "init", "-backend=false", "-input=false", f"-plugin-dir={run.plugins}")
    assert init.returncode == 0, init.stdout + init.stderr
    known = tmp_path / "network.json"
    known.write_text(json.dumps(network))
    plan = run.tf(
        root,
        "plan",
        "-refresh=false",
        "-input=false",
        "-lock=false",
        "-no-color",
        env={NETWORK_ENV: str(known)},
    )
    shutil.rmtree(work, ignore_errors=True)
    return plan


@pytest.mark.tools
@needs_terraform
def test_the_plan_accepts_the_network_the_spec_states(tmp_path: Path) -> None:
    bundle = tmp_path / "stated"
    for file in compile_spec(_spec(tmp_path)).bundle.files:
        (bundle / file.path).parent.mkdir(parents=True, exist_ok=True)
        (bundle / file.path).write_bytes(file.content)
    network = existing_network(bundle / "terraform" / "eu-west-1")
    assert network is not None and set(network["aws_subnet"]) == set(SUBNETS)
    plan = _plan(tmp_path, network)
    assert plan.returncode == 0, plan.stdout + plan.stderr


@pytest.mark.tools
@needs_terraform
@pytest.mark.parametrize(
    ("what", "message"),
    [
        (
            "cidr",
            "Subnet subnet-0123456789abcdef1 is 10.40.9.0/24, not 10.40.2.0/24 as the spec says.",
        ),
        (
            "vpc",
            "Subnet subnet-0123456789abcdef1 is in vpc-0fffffffffffffff0, not in "
            "vpc-0123456789abcdef0.",
        ),
        ("zone", "Subnet subnet-0123456789abcdef1 is in zone eu-west-1c, not eu-west-1b."),
        ("route", "sends 0.0.0.0/0 to no internet gateway: an EIP works only in a public subnet."),
        ("vpc_cidr", "VPC vpc-0123456789abcdef0 has no CIDR block 10.40.0.0/16"),
    ],
)
def test_the_plan_refuses_a_network_that_differs(tmp_path: Path, what: str, message: str) -> None:
    bundle = tmp_path / "stated"
    for file in compile_spec(_spec(tmp_path)).bundle.files:
        (bundle / file.path).parent.mkdir(parents=True, exist_ok=True)
        (bundle / file.path).write_bytes(file.content)
    network = existing_network(bundle / "terraform" / "eu-west-1")
    assert network is not None
    subnet = network["aws_subnet"][SUBNETS[1]]
    if what == "cidr":
        subnet["cidr_block"] = "10.40.9.0/24"
    elif what == "vpc":
        subnet["vpc_id"] = "vpc-0fffffffffffffff0"
    elif what == "zone":
        subnet["availability_zone"] = "eu-west-1c"
    elif what == "route":
        network["aws_route_table"][SUBNETS[1]]["routes"] = [
            {"cidr_block": "0.0.0.0/0", "gateway_id": "", "nat_gateway_id": "nat-0123"}
        ]
    else:
        network["aws_vpc"][VPC]["cidr_block_associations"] = [
            {"association_id": "a", "cidr_block": "172.16.0.0/16", "state": "associated"}
        ]
    plan = _plan(tmp_path, network)
    assert plan.returncode != 0
    assert message in " ".join((plan.stdout + plan.stderr).split()), plan.stdout + plan.stderr


def test_taken_addresses_are_skipped_by_every_pick(tmp_path: Path) -> None:
    """A taken address below a pick moves it up by one: the load balancers' block and the demo
    backends stay clear of hosts the account already has, and Keepalived's peers follow."""

    def change(data: dict[str, Any]) -> None:
        _byo(data)
        data["regions"][0]["taken"] = ["10.40.1.10", "10.40.1.11", "10.40.1.100"]

    compiled = compile_spec(_spec(tmp_path, change))
    region = compiled.plan.regions[0]
    lb1 = region.load_balancers[0]
    assert (lb1.private_ip, lb1.slot_ips) == ("10.40.1.12", ("10.40.1.13", "10.40.1.14"))
    assert region.load_balancers[1].private_ip == "10.40.2.10"  # another subnet: unchanged
    picked = (
        {lb.private_ip for lb in region.load_balancers}
        | {ip for lb in region.load_balancers for ip in lb.slot_ips}
        | {s.address for s in region.servers}
    )
    assert not picked & {"10.40.1.10", "10.40.1.11", "10.40.1.100"}
    assert region.load_balancers[1].peers == ("10.40.1.12",)
    args = _args({p: f.content.decode() for p, f in compiled.bundle.by_path().items()}, "eu-west-1")
    assert args["load_balancers"]["lb1"]["private_ip"] == "10.40.1.12"


@pytest.mark.parametrize(
    ("taken", "region", "words"),
    [
        (["10.40.7.7"], 0, "is in no subnet of eu-west-1"),
        (["10.41.1.7"], 1, "set vpc_id too"),
        (["10.40.1.999"], 0, "IPv4"),
    ],
)
def test_bad_taken_addresses_are_located(
    tmp_path: Path, taken: list[str], region: int, words: str
) -> None:
    def change(data: dict[str, Any]) -> None:
        _byo(data)
        data["regions"][region]["taken"] = taken

    result = invoke_cli("validate", str(_spec(tmp_path, change)))
    assert result.returncode == 2, result.stdout
    line = next(x for x in result.stderr.splitlines() if f"error: regions[{region}].taken" in x)
    assert words in line, result.stderr
