"""The namespace lab on a bring-your-own-network spec (blueprints/existing-vpc.yaml): the lab's
cloud first creates the "existing" VPC, subnets, internet gateway and route, security group and
the interfaces holding the taken addresses; the lab compiles the spec's copy with the IDs moto
picked and runs a small fault matrix in that network.

Asserts what only this spec can show: no second VPC (EC2 reports the region's default VPC and
the existing one, before and after the matrix), every LB and slot address clear of `taken`, the
IDs substituted and said so; and that failover works there as anywhere: HAProxy killed on eip1's
owner moves eip1 within the budget while clients keep being served, and everything returns to
its owner after the heal. The run has its own prefix and is destroyed in a finally, also when
it raises; the existing network lives in that run's moto and goes with it.
"""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import pytest

from hacompile.lab import netns
from hacompile.lab.main import LabRun, run_lab
from hacompile.lab.report import table, timeline
from hacompile.lab.topology import LAB_ROOT, new_prefix

pytestmark = [pytest.mark.lab, pytest.mark.root, pytest.mark.tools]

REPO = Path(__file__).resolve().parents[2]
BYO = REPO / "blueprints" / "existing-vpc.yaml"
SCENARIOS = ["haproxy-killed", "lb-lost"]
TAKEN = {"10.80.1.10", "10.80.2.10"}


@pytest.fixture(scope="module")
def run(lab_ready: None) -> LabRun:
    prefix = new_prefix()
    try:  # every wait inside run_lab is bounded
        got = run_lab(BYO, scenarios=SCENARIOS, prefix=prefix)
    finally:
        netns.destroy(prefix)
        shutil.rmtree(LAB_ROOT / prefix, ignore_errors=True)
    assert netns.lab_namespaces(prefix) == [], "namespaces left behind"
    assert not (LAB_ROOT / prefix).exists()
    print("\n" + "\n".join(table(got.results)))
    return got


def test_the_tier_runs_in_the_existing_network_only(run: LabRun) -> None:
    net = run.network
    assert net is not None, "the lab did not treat the spec as bring-your-own-network"
    assert net["problems"] == []
    assert net["vpcs"] == 2  # moto's default VPC and the existing one: no second VPC
    assert net["vpcs_not_default"] == [net["vpc_id"]]
    assert set(net["taken"]) == TAKEN  # each held by an interface of another host
    assert net["lb_addresses"] and not set(net["lb_addresses"]) & TAKEN
    subnets = [ipaddress.ip_network(c) for c in ("10.80.1.0/24", "10.80.2.0/24")]
    assert all(any(ipaddress.ip_address(a) in s for s in subnets) for a in net["lb_addresses"])


def test_the_created_ids_replace_the_specs_and_are_named(run: LabRun) -> None:
    net = run.network
    assert net is not None
    subs = run.substitutions
    assert any(
        s.startswith(f"regions[eu-central-1].vpc_id: vpc-0a1b2c3d4e5f60718 -> {net['vpc_id']}:")
        for s in subs
    ), subs
    for spec_id, sid in zip(
        ("subnet-0a1b2c3d4e5f60701", "subnet-0a1b2c3d4e5f60702"), net["subnets"], strict=True
    ):
        assert any(f"subnet_id: {spec_id} -> {sid}:" in s for s in subs), subs
    assert any(
        f"security_groups: sg-0a1b2c3d4e5f60799 -> {net['security_groups']['sg-0a1b2c3d4e5f60799']}"
        in s
        for s in subs
    )
    assert any(s.startswith("state: ignored") for s in subs)
    assert any(s.startswith("dns: ignored") for s in subs)


def test_haproxy_killed_moves_its_eips_and_clients_keep_being_served(run: LabRun) -> None:
    got = {r["scenario"]: r for r in run.results}
    assert set(got) == set(SCENARIOS)
    failed = {s: r["problems"] for s, r in got.items() if not r["passed"]}
    assert not failed, "\n".join([repr(failed)] + [x for s in failed for x in timeline(got[s])])
    assert run.passed
    for scenario, r in got.items():
        assert r["final_owners"] == {"eip1": "lb1", "eip2": "lb2"}, scenario
        inject = r["inject"]
        assert 0 < inject["eip_moved_s"]["eip1"] <= r["budget_s"], scenario
        assert inject["serving_again_s"]["eip1"] <= r["budget_s"] + 2, scenario
        assert r["heal"]["moves"]["eip1"][-1][1] == "lb1", scenario
    assert 1 <= got["haproxy-killed"]["inject"]["associate_calls"] <= 2
