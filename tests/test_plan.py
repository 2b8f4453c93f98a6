"""Stage 3: addresses, priorities and VRIDs are decided once, in the plan."""

from __future__ import annotations

from pathlib import Path

from hacompile.load import load
from hacompile.plan.build import build_plan
from hacompile.plan.model import Plan
from hacompile.validate import validate
from tests.conftest import ROOT


def _plan(name: str) -> Plan:
    path = ROOT / "blueprints" / name
    return build_plan(validate(load(path)).spec, path.name)


def test_blog_plan_is_the_blogs_setup() -> None:
    plan = _plan("blog-aws-keepalived.yaml")
    (region,) = plan.regions
    lb1, lb2 = region.load_balancers
    assert [(i.name, i.priority, i.master) for i in lb1.instances] == [
        ("eip1", 101, True),
        ("eip2", 100, False),
    ]
    assert [(i.name, i.priority, i.master) for i in lb2.instances] == [
        ("eip1", 100, False),
        ("eip2", 101, True),
    ]
    assert [e.vrid for e in region.eips] == [51, 52]
    assert [c.weight for c in plan.keepalived.checks] == [-4, -4, 6, 0]
    assert lb1.zone != lb2.zone, "the two load balancers sit in different zones"
    assert lb1.peers == (lb2.private_ip,) and lb2.peers == (lb1.private_ip,)
    assert plan.flavor.haproxy_process == "hapee-lb"
    assert len(region.servers) == 3


def test_three_lbs_rotate_backup_priorities() -> None:
    plan = _plan("three-lb-existing-backends.yaml")
    lbs = plan.regions[0].load_balancers
    table = {lb.key: {i.name: i.priority for i in lb.instances} for lb in lbs}
    # master 110; the next LB in rotation backs up at 100, the one after at 90 (step 10)
    assert table == {
        "lb1": {"eip1": 110, "eip2": 90, "eip3": 100},
        "lb2": {"eip1": 100, "eip2": 110, "eip3": 90},
        "lb3": {"eip1": 90, "eip2": 100, "eip3": 110},
    }
    for eip in ("eip1", "eip2", "eip3"):
        prios = sorted(t[eip] for t in table.values())
        assert len(set(prios)) == 3, "no ties between nodes for one EIP"


def test_plan_decides_how_checks_are_tracked_and_which_backends_resolve() -> None:
    """What keepalived.conf.j2 and haproxy.cfg.j2 used to work out on the hosts: a process check
    is a vrrp_track_process only under `process_checks: track_process` (a gateway check never),
    its delay is fall runs of interval, and a backend is re-resolved when named by DNS."""
    tracks = {}
    for name in (
        "blog-aws-keepalived.yaml",
        "fast-failover.yaml",
        "three-lb-existing-backends.yaml",
    ):
        ka = _plan(name).keepalived
        tracks[name] = {c.name: c.track for c in ka.checks}
        assert all(c.down_after == c.interval * c.fall for c in ka.checks)
    assert tracks["blog-aws-keepalived.yaml"] == {  # process_checks: script
        "chk_sshd": "script",
        "chk_networkd": "script",
        "chk_lb": "script",
        "chk_gw": "script",
    }
    assert tracks["fast-failover.yaml"] == {  # process_checks: track_process
        "chk_haproxy": "process",
        "chk_gw": "script",
    }
    (region,) = _plan("three-lb-existing-backends.yaml").regions
    assert [(s.address, s.dns_name) for s in region.servers] == [
        ("10.60.20.11", False),
        ("10.60.20.12", False),
        ("app3.internal.example.com", True),
    ]
    blog = _plan("blog-aws-keepalived.yaml").regions[0]
    assert not any(s.dns_name for s in blog.servers), "demo backends are addressed by IP"


def test_addresses_are_unique_inside_their_subnets() -> None:
    for name in (
        "blog-aws-keepalived.yaml",
        "community-multi-region.yaml",
        "three-lb-existing-backends.yaml",
    ):
        plan = _plan(name)
        for region in plan.regions:
            used: list[str] = []
            for lb in region.load_balancers:
                used += [lb.private_ip, *lb.slot_ips]
                assert len(lb.slot_ips) == len(region.eips)
            used += [s.address for s in region.servers if region.demo_backends]
            assert len(used) == len(set(used)), name


def test_plan_is_frozen_and_deterministic() -> None:
    a = _plan("community-multi-region.yaml")
    b = _plan("community-multi-region.yaml")
    assert a == b
    try:
        a.regions[0].load_balancers[0].__setattr__("private_ip", "x")
    except AttributeError:
        pass
    else:  # pragma: no cover - would mean the plan is mutable
        raise AssertionError("plan objects must be frozen")


def test_iam_policy_is_scoped(tmp_path: Path) -> None:
    from hacompile.plan.iam import eip_failover_policy

    plan = _plan("blog-aws-keepalived.yaml")
    doc = eip_failover_policy(plan, plan.regions[0])
    actions = {a for s in doc["Statement"] for a in s["Action"]}
    assert actions == {
        "ec2:DescribeAddresses",
        "ec2:DescribeNetworkInterfaces",
        "ec2:AssociateAddress",
        "ec2:DisassociateAddress",
    }
    write = next(s for s in doc["Statement"] if "ec2:AssociateAddress" in s["Action"])
    assert write["Resource"] != "*"
    # the role's own deployment tag, not the cluster name another deployment can share
    assert write["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/hacompile:deployment": "${aws:PrincipalTag/hacompile:deployment}"
        }
    }


def test_a_check_starved_for_three_seconds_is_not_a_failure() -> None:
    """Every vrrp_script's timeout leaves 3 s beyond its watch (issue 16): on a busy host a
    check shares Keepalived's cgroup with the claim's AWS CLI runs, and two runs killed at
    the timeout put a healthy node in FAULT (the three-LB ping-pong)."""
    for name in ("three-lb-existing-backends.yaml", "blog-aws-keepalived.yaml"):
        for check in _plan(name).keepalived.checks:
            if check.track == "script":
                watch = check.watch_ms if check.kind == "process" else 1000  # ping -W 1
                assert check.timeout * 1000 - watch >= 3000, (name, check.name)
