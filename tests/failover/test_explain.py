"""`hacompile explain` and the bundle README: the same table, timings from the spec's numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hacompile.failover import analyse
from hacompile.pipeline import compile_spec
from hacompile.plan.build import EIP_CLAIM
from tests.conftest import ROOT, run_cli
from tests.failover.specs import blog_checks, line_of, write_spec

BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
EIP_ENV = "ansible/roles/keepalived/templates/eip.env.j2"


def cells(line: str) -> list[str]:
    return [" ".join(c.split()) for c in re.split(r"\s{2,}", line.strip())]


def test_claim_budget_matches_the_eip_script_settings() -> None:
    """The proof's claim bounds and the bundle's eip.env.j2 are one value: the plan's."""
    result = compile_spec(BLOG)
    assert result.plan.eip_claim == EIP_CLAIM
    text = result.bundle.by_path()[EIP_ENV].content.decode()
    assert f"ATTEMPTS='{EIP_CLAIM.attempts}'" in text
    assert f"BUDGET_SECONDS='{EIP_CLAIM.budget_seconds}'" in text
    timing = analyse(result.plan).timings[0]
    assert (timing.claim_attempts, timing.claim_budget) == EIP_CLAIM


def test_blog_explain_table_reads_as_the_blog_describes() -> None:
    result = run_cli("explain", str(BLOG))
    assert result.returncode == 0, result.stderr
    rows = {
        cells(line)[0]: cells(line)[1:]
        for line in result.stdout.splitlines()
        if "  " in line.strip()
    }
    assert rows["all healthy"] == ["lb1 · 107/106", "lb2 · 106/107"]
    assert rows["chk_sshd fails on lb1"] == ["lb2 · 103/106", "lb2 · 102/107"]
    assert rows["chk_networkd fails on lb1"] == ["lb2 · 103/106", "lb2 · 102/107"]
    assert rows["chk_lb fails on lb1"] == ["lb2 · 101/106", "lb2 · 100/107"]
    assert rows["chk_gw fails on lb1"] == ["lb2 · F/106", "lb2 · F/107"]
    assert rows["lb1 down"] == ["lb2 · -/106", "lb2 · -/107"]
    assert rows["HAProxy down on every node"] == ["lb1 · 101/100", "lb2 · 100/101"]
    # silence is the detection: the backup knows when its master-down timer runs out
    assert rows["a load balancer is lost"][:3] == ["3.61 s", "3.61 s", "63.61 s"]
    # preempt_delay 0, as in the blog: the backup preempts once the master-down timer runs out
    assert rows["chk_lb fails"][:3] == ["4 s", "8.61 s", "68.61 s"]
    assert rows["chk_gw fails (FAULT)"][:3] == ["6 s", "6.61 s", "66.61 s"]
    words = " ".join(result.stdout.split())  # the failback bullets wrap at 100 columns
    assert "Failback is immediate (preempt_delay 0)" in words
    assert "higher primary (unicast source) IP wins" in words
    assert "1-point margin" in result.stderr  # the blog's weakness, as a warning


def test_explain_json_carries_every_scenario() -> None:
    doc = json.loads(run_cli("explain", str(BLOG), "--json").stdout)
    assert doc["ok"] is True
    [region] = doc["regions"]
    assert len(region["scenarios"]) == 49
    healthy = region["scenarios"][0]
    assert healthy["eips"]["eip1"]["holder"] == "lb1"
    assert healthy["eips"]["eip1"]["nodes"]["lb2"] == {
        "state": "up",
        "priority": 106,
        "haproxy_up": True,
    }
    assert doc["timing"][0]["event"] == "node_lost"
    assert doc["haproxy_checks"] == ["chk_lb"]


def test_explain_shows_the_table_of_a_spec_that_fails_the_proof(tmp_path: Path) -> None:
    # The blog's checks with chk_lb at +1, too small for the 1-point priority gap.
    spec = write_spec(tmp_path, flavor="hapee", checks=blog_checks(lb_weight=1))
    result = run_cli("explain", str(spec))
    assert result.returncode == 2
    assert "chk_lb fails on lb1" in result.stdout
    line = line_of(spec, "chk_lb")
    assert re.search(
        rf"{re.escape(str(spec))}:{line}:\d+: error: keepalived\.checks\[2\]\.weight", result.stderr
    ), result.stderr
    quiet = run_cli("explain", str(spec), "--quiet")
    assert "warning" not in quiet.stderr and "error" in quiet.stderr


def test_readme_holds_the_same_table_and_the_diagram() -> None:
    compiled = compile_spec(BLOG)
    readme = compiled.bundle.by_path()["README.md"].content.decode()
    assert "| all healthy | lb1 · 107/106 | lb2 · 106/107 |" in readme
    assert "| chk_lb fails on lb1 | lb2 · 101/106 | lb2 · 100/107 |" in readme
    assert "<details><summary>37 pairs of failures</summary>" in readme
    assert "| a load balancer is lost | 3.61 s | 3.61 s | 63.61 s |" in readme
    report = analyse(compiled.plan)
    for line in report.failback:
        assert f"- {line}" in readme
    diagram = readme[
        readme.index("```mermaid") : readme.index("```", readme.index("```mermaid") + 3)
    ]
    assert 'us_east_1_eip1 == "MASTER 101" ==> us_east_1_lb1' in diagram
    assert 'us_east_1_eip1 -. "BACKUP 100" .-> us_east_1_lb2' in diagram
    assert 'subgraph us_east_1_zone_a["us-east-1a · 10.0.1.0/24"]' in diagram
    assert "clients --> us_east_1_eip2" in diagram
    assert "us_east_1_lb2 --> us_east_1_web3" in diagram


def test_regions_of_one_layout_share_one_table(tmp_path: Path) -> None:
    """Regions laid out alike (the same load balancers, EIPs and priorities; zones and CIDRs
    aside) have identical tables: explain prints it once, titled with every such region."""
    multi = ROOT / "blueprints" / "community-multi-region.yaml"
    result = run_cli("explain", str(multi))
    assert result.returncode == 0, result.stderr
    assert re.findall(r"^(.*): who holds each EIP", result.stdout, re.M) == ["eu-west-1, us-east-2"]
    east = "  - name: us-east-2\n    vpc_cidr: 10.41.0.0/16\n"
    spec = tmp_path / "three.yaml"
    spec.write_text(
        multi.read_text().replace(
            east,
            "  - name: ap-south-1\n    vpc_cidr: "
            "10.42.0.0/16\n    zones: [ap-south-1a, "
            "ap-south-1b]\n" + east,
        )
    )
    result = run_cli("explain", str(spec))
    assert result.returncode == 0, result.stderr
    assert re.findall(r"^(.*): who holds each EIP", result.stdout, re.M) == [
        "eu-west-1, ap-south-1, us-east-2"
    ]
    assert result.stdout.count("all healthy") == 1
