"""`hacompile status` against a real moto server on loopback, seeded as the bundle's Terraform
leaves EC2 (hacompile.standins.tfseed) and as the lab's cloud seeds it (hacompile.lab.cloud).

One moto server for the module, reset before each test: every test seeds its own region.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hacompile.lab.cloud import seed as lab_seed
from hacompile.lab.topology import build as build_topology
from hacompile.pipeline import check
from hacompile.plan.model import Plan
from hacompile.standins.moto import MotoServer, aws_env, ec2_client, free_port
from hacompile.standins.tfseed import Seeded, associate_eip, seed_region
from hacompile.status import StatusError, check_status, ec2_clients
from tests.conftest import ROOT, invoke_cli

BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
THREE = ROOT / "blueprints" / "three-lb-existing-backends.yaml"
ROUTE = ROOT / "blueprints" / "internal-route-vip.yaml"
SECONDARY = ROOT / "blueprints" / "internal-secondary-ip.yaml"


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with MotoServer() as moto:
        yield moto


@pytest.fixture
def moto(server: MotoServer) -> MotoServer:
    server.reset()
    return server


class Tier:
    """One blueprint's region seeded in moto, and `hacompile status` run on it."""

    def __init__(self, moto: MotoServer, spec: Path) -> None:
        self.spec = spec
        self.plan: Plan = check(spec).plan
        self.region = self.plan.regions[0]
        self.env = aws_env(moto.url, self.region.name)
        self.ec2 = ec2_client(moto.url, self.region.name)
        self.ids: Seeded = seed_region(self.ec2, self.plan, self.region)

    def status(self, *args: str) -> Any:
        return invoke_cli("status", str(self.spec), *args, env=self.env)

    def document(self) -> tuple[int, dict[str, Any]]:
        result = self.status("--json")
        return result.returncode, json.loads(result.stdout)

    def move(self, eip: str, lb: str) -> None:
        associate_eip(self.ec2, self.region, self.ids.eips[eip], eip, lb, self.ids.enis)

    def association(self, eip: str) -> str:
        got = self.ec2.describe_addresses(AllocationIds=[self.ids.eips[eip]])["Addresses"][0]
        return str(got["AssociationId"])


def _addresses(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for r in document["regions"] for a in r["addresses"]}


def _lbs(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lb["name"]: lb for r in document["regions"] for lb in r["lbs"]}


@pytest.mark.parametrize("spec", [BLOG, THREE, ROUTE, SECONDARY], ids=lambda p: p.stem)
def test_a_tier_as_planned_has_no_drift(moto: MotoServer, spec: Path) -> None:
    tier = Tier(moto, spec)
    code, document = tier.document()
    assert code == 0, document
    assert document["command"] == "status" and document["ok"] is True
    assert document["drift"] == []
    addresses = _addresses(document)
    region = tier.region
    assert set(addresses) == {e.key for e in region.eips} | {v.name for v in region.vips}
    for eip in region.eips:
        row = addresses[eip.key]
        assert row["kind"] == "eip" and row["ok"] is True
        assert row["public_ip"] == tier.ids.public_ips[eip.key]
        assert row["should"] == eip.master and row["now"] == [eip.master]
    for vip in region.vips:
        row = addresses[vip.name]
        assert row["kind"] == "vip" and row["address"] == vip.address
        assert row["now"] == [vip.master] and row["ok"] is True
    lbs = _lbs(document)
    for lb in region.load_balancers:
        assert lbs[lb.key]["state"] == "running"
        assert lbs[lb.key]["instance_id"] == tier.ids.instances[lb.key]
        owned = [e.key for e in region.eips if e.master == lb.key]
        owned += [v.name for v in region.vips if v.master == lb.key]
        assert lbs[lb.key]["holds"] == owned
    human = tier.status()
    assert human.returncode == 0 and "no drift" in human.stdout
    assert all(f"{e.key} " in human.stdout for e in region.eips)


def test_a_misplaced_eip_is_drift_naming_the_owner_and_the_holder(moto: MotoServer) -> None:
    tier = Tier(moto, BLOG)
    tier.move("eip1", "lb2")  # the address reads the ENI's primary IP: mapped by the ENI
    result = tier.status()
    assert result.returncode == 1
    drift = [line for line in result.stdout.splitlines() if line.startswith("drift:")]
    assert len(drift) == 1, result.stdout
    assert "eip1" in drift[0] and "should be at lb1" in drift[0] and "is at lb2" in drift[0]
    code, document = tier.document()
    assert code == 1 and document["ok"] is False
    row = _addresses(document)["eip1"]
    assert row["should"] == "lb1" and row["now"] == ["lb2"] and row["ok"] is False
    assert _lbs(document)["lb2"]["holds"] == ["eip1", "eip2"]
    assert _lbs(document)["lb1"]["holds"] == []


def test_an_unassociated_eip_and_a_stopped_instance_are_drift(moto: MotoServer) -> None:
    tier = Tier(moto, THREE)
    tier.ec2.disassociate_address(AssociationId=tier.association("eip2"))
    tier.ec2.stop_instances(InstanceIds=[tier.ids.instances["lb3"]])
    code, document = tier.document()
    assert code == 1
    assert _addresses(document)["eip2"]["now"] == []
    assert _lbs(document)["lb3"]["state"] == "stopped"
    drift = document["drift"]
    assert len(drift) == 2, drift
    assert "eip2" in drift[0] and "not associated" in drift[0]
    assert "lb3" in drift[1] and "stopped" in drift[1]
    quiet = tier.status("-q")  # only the drift lines
    assert quiet.returncode == 1
    assert [line.startswith("drift:") for line in quiet.stdout.splitlines()] == [True, True]


def test_a_missing_eip_and_a_terminated_instance_are_drift(moto: MotoServer) -> None:
    tier = Tier(moto, BLOG)
    tier.ec2.disassociate_address(AssociationId=tier.association("eip2"))
    tier.ec2.release_address(AllocationId=tier.ids.eips["eip2"])
    tier.ec2.terminate_instances(InstanceIds=[tier.ids.instances["lb2"]])
    code, document = tier.document()
    assert code == 1
    assert any("eip2" in d and "no Elastic IP is tagged" in d for d in document["drift"])
    assert _lbs(document)["lb2"]["state"] == "terminated"


def test_a_moved_route_vip_is_drift(moto: MotoServer) -> None:
    tier = Tier(moto, ROUTE)
    vip = tier.region.vips[0]
    tier.ec2.replace_route(
        RouteTableId=tier.ids.route_table,
        DestinationCidrBlock=f"{vip.address}/32",
        NetworkInterfaceId=tier.ids.enis["lb2"],
    )
    code, document = tier.document()
    assert code == 1
    row = _addresses(document)[vip.name]
    assert row["now"] == ["lb2"] and row["should"] == vip.master == "lb1"
    assert document["drift"] == [f"{tier.region.name} {vip.name} ({vip.address}): {row['problem']}"]


def test_a_secondary_ip_vip_listed_twice_is_drift_and_a_non_holder_is_named(
    moto: MotoServer,
) -> None:
    """moto leaves a reassigned secondary IP on its old ENI: both are reported."""
    tier = Tier(moto, SECONDARY)
    vip = tier.region.vips[0]
    assert vip.holders == ("lb1", "lb3")
    tier.ec2.assign_private_ip_addresses(
        NetworkInterfaceId=tier.ids.enis["lb2"],
        PrivateIpAddresses=[vip.address],
        AllowReassignment=True,
    )
    code, document = tier.document()
    assert code == 1
    row = _addresses(document)[vip.name]
    assert row["now"] == ["lb1", "lb2"]
    assert "lb2 is not one of its holders" in row["problem"]


def test_another_deployment_of_the_same_name_is_not_ours(moto: MotoServer) -> None:
    """An EIP of another cluster (another name prefix) is never read as ours."""
    tier = Tier(moto, BLOG)
    tier.ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {
                "ResourceType": "elastic-ip",
                "Tags": [
                    {"Key": "Name", "Value": "other-us-east-1-eip1"},
                    {"Key": tier.plan.deployment_tag_key, "Value": "other-us-east-1-x"},
                ],
            }
        ],
    )
    code, document = tier.document()
    assert code == 0, document["drift"]


def test_the_labs_seed_is_a_deployment_status_reads(moto: MotoServer) -> None:
    """The lab's cloud makes each LB's interface first and launches its instance on it, tagged
    as Terraform tags it: status finds every LB running with that interface, is clean once the
    owners claimed, and names the one EIP moved behind their back."""
    plan = check(ROUTE).plan
    region = plan.regions[0]
    topo = build_topology(
        region, "hcl000001", tags=plan.tags, deployment_tag_key=plan.deployment_tag_key
    )
    assert topo.tagging is not None
    cfg = {
        "region": topo.region,
        "vpc_cidr": topo.vpc_cidr,
        "subnets": sorted({lb.subnet_cidr for lb in topo.lbs}),
        "lbs": [
            {"key": lb.key, "ip": lb.ip, "subnet_cidr": lb.subnet_cidr, "slots": list(lb.slots)}
            for lb in topo.lbs
        ],
        "eips": [{"key": e.key, "address": e.address} for e in topo.eips],
        "vips": [
            {"key": v.key, "strategy": v.strategy, "address": v.address, "owner": v.owner}
            for v in topo.vips
        ],
        "tagging": topo.tagging.as_config(),
    }
    ids = lab_seed(moto.url, cfg)
    ec2 = ec2_client(moto.url, region.name)
    for eip in topo.eips:  # what the owners' claims do on their first MASTER
        ec2.associate_address(
            AllocationId=ids["eips"][eip.key]["allocation_id"],
            NetworkInterfaceId=ids["enis"][eip.owner]["eni_id"],
        )
    at_rest = check_status(plan, lambda name: ec2_client(moto.url, name))
    assert at_rest.ok, at_rest.drift
    ec2.associate_address(  # and one that moved
        AllocationId=ids["eips"]["eip2"]["allocation_id"],
        NetworkInterfaceId=ids["enis"]["lb1"]["eni_id"],
        AllowReassociation=True,
    )
    found = check_status(plan, lambda name: ec2_client(moto.url, name))
    (status,) = found.regions
    now = {a.name: a.now for a in status.addresses}
    assert now == {"eip1": ("lb1",), "eip2": ("lb1",), "api": ("lb1",), "mesh": ("lb2",)}
    assert [(lb.instance_id, lb.state, lb.eni_id) for lb in status.lbs] == [
        (ids["enis"][k]["instance_id"], "running", ids["enis"][k]["eni_id"]) for k in ("lb1", "lb2")
    ]
    assert [a.name for a in status.addresses if not a.ok] == ["eip2"]


def test_an_unreachable_endpoint_is_one_line_exit_2() -> None:
    spec = BLOG
    env = aws_env(f"http://127.0.0.1:{free_port()}", "us-east-1")
    result = invoke_cli("status", str(spec), env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if ": warning: " not in line]
    assert len(lines) == 1 and lines[0].startswith("error: us-east-1: EC2: Could not connect")
    document = json.loads(invoke_cli("status", str(spec), "--json", env=env).stdout)
    assert document["ok"] is False and "Could not connect" in document["error"]


def test_a_bad_spec_is_file_line_col_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "ha.yaml"
    text = BLOG.read_text(encoding="utf-8").replace("count: 2", "count: nine", 1)
    bad.write_text(text, encoding="utf-8")
    result = invoke_cli("status", str(bad), env=aws_env("http://127.0.0.1:9"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{bad}:") and ": error: " in result.stderr
    line, col = result.stderr.split(":")[1:3]
    assert line.isdigit() and col.isdigit()


def test_an_unknown_region_is_refused(moto: MotoServer) -> None:
    plan = check(BLOG).plan
    with pytest.raises(StatusError, match="no region 'eu-west-9'"):
        check_status(plan, lambda name: ec2_client(moto.url, name), "eu-west-9")
    result = invoke_cli("status", str(BLOG), "--region", "eu-west-9", env=aws_env(moto.url))
    assert result.returncode == 2 and "eu-west-9" in result.stderr


def test_without_boto3_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 raises ImportError
    with pytest.raises(StatusError, match=r"pip install 'hacompile\[status\]'"):
        ec2_clients()
