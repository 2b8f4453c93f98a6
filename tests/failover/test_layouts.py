"""Regions with the same layout are analysed once: same outcomes, same findings, one README table.

The layout must hold everything an outcome depends on; the order of the LBs' primary IPs is
part of it because a tie goes to the higher IP (swapping two IPs changes who holds an EIP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hacompile.failover import analyse, present
from hacompile.failover.model import RegionReport
from hacompile.failover.proof import findings
from hacompile.failover.scenarios import analyse_region, analyse_regions
from hacompile.load import load
from hacompile.plan.build import build_plan
from hacompile.plan.model import Plan
from hacompile.validate import validate

REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]


def plan_of(tmp_path: Path) -> Plan:
    """Three regions of one shape; chk_sshd (-10) makes 110 fall to the backups' 100: a tie."""
    spec: dict[str, Any] = {
        "version": 1,
        "name": "layouts",
        "regions": [
            {
                "name": name,
                "vpc_cidr": f"10.{i}.0.0/16",
                "zones": [
                    {"name": f"{name}{z}", "subnet_cidr": f"10.{i}.{k + 1}.0/24"}
                    for k, z in enumerate("ab")
                ],
            }
            for i, name in enumerate(REGIONS)
        ],
        "load_balancers": {"count": 2, "instance_type": "t3.small"},
        "backends": {"port": 80, "demo": {"count": 2}},
        "haproxy": {"frontends": [{"name": "http", "port": 80}]},
        "keepalived": {
            "priority": {"master": 110, "backup": 100},
            "checks": [
                {"name": "chk_haproxy", "process": "haproxy", "weight": 0},
                {"name": "chk_sshd", "process": "sshd", "weight": -10},
            ],
        },
        "access": {"ssh_key_name": "k", "ssh_cidrs": ["203.0.113.0/24"]},
    }
    path = tmp_path / "ha.yaml"
    path.write_text(json.dumps(spec))
    return build_plan(validate(load(path)).spec, path.name)


def swap_ips(plan: Plan, index: int) -> Plan:
    """Region `index` with its two LBs' primary IPs exchanged (lb1 now has the higher one)."""
    region = plan.regions[index]
    a, b = region.load_balancers
    lbs = (a._replace(private_ip=b.private_ip), b._replace(private_ip=a.private_ip))
    regions = list(plan.regions)
    regions[index] = region._replace(load_balancers=lbs)
    return plan._replace(regions=tuple(regions))


def outcomes(report: RegionReport) -> list[object]:
    """Everything in the rows but the IPs, which are the one thing a shared layout differs in."""
    return [
        (
            row.scenario,
            [
                (
                    o.eip,
                    o.owner,
                    o.holder,
                    o.runner_up,
                    o.margin,
                    o.tie,
                    [(n.lb, n.state, n.priority, n.haproxy_up, n.healthy) for n in o.nodes],
                )
                for o in row.outcomes
            ],
        )
        for row in report.rows
    ]


def full(plan: Plan) -> tuple[RegionReport, ...]:
    return tuple(analyse_region(plan, region) for region in plan.regions)


def test_regions_of_one_layout_share_the_first_ones_analysis(tmp_path: Path) -> None:
    plan = plan_of(tmp_path)
    shared = analyse_regions(plan)
    assert [r.same_as for r in shared] == ["", "us-east-1", "us-east-1"]
    assert shared[1].rows is shared[0].rows
    for mine, own in zip(shared, full(plan), strict=True):
        assert mine.region == own.region
        assert outcomes(mine) == outcomes(own)


def test_the_order_of_primary_ips_is_part_of_the_layout(tmp_path: Path) -> None:
    plan = swap_ips(plan_of(tmp_path), 1)
    shared = analyse_regions(plan)
    assert [r.same_as for r in shared] == ["", "", "us-east-1"]
    for mine, own in zip(shared, full(plan), strict=True):
        assert outcomes(mine) == outcomes(own)
    # The tie decides differently: that is why the IP order has to be in the key.
    assert outcomes(shared[1]) != outcomes(shared[0])


def test_findings_count_every_region(tmp_path: Path) -> None:
    for plan in (plan_of(tmp_path), swap_ips(plan_of(tmp_path), 2)):
        shared = analyse(plan).findings
        assert shared, "the tie must be reported"
        assert shared == findings(plan, full(plan))
        # two tying scenarios per region (chk_sshd on lb1, on lb2), three regions: 6 in all
        assert any("(and 5 more scenario(s))" in f.message for f in shared)


def test_readme_shows_one_table_per_layout_naming_its_regions(tmp_path: Path) -> None:
    view = present.view(analyse(swap_ips(plan_of(tmp_path), 1)))
    assert [r.region for r in view.regions] == ["us-east-1, ap-south-1", "eu-west-1"]
    one = present.view(analyse(plan_of(tmp_path)))
    assert [r.region for r in one.regions] == ["us-east-1, eu-west-1, ap-south-1"]
