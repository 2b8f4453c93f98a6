"""The proof, timing and explain of private VIPs (regions[].vips): each VIP is its own VRRP
instance, decided over its holders only; its bound adds its strategy's propagation."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from hacompile.errors import Severity
from hacompile.failover import analyse, present
from hacompile.failover.model import Outcome, Report
from hacompile.failover.proof import findings
from hacompile.failover.scenarios import analyse_regions, describe
from hacompile.failover.timing import PROPAGATION
from hacompile.pipeline import compile_spec
from hacompile.plan.model import Plan
from tests.conftest import ROOT, invoke_cli

SECONDARY = ROOT / "blueprints" / "internal-secondary-ip.yaml"
ROUTE = ROOT / "blueprints" / "internal-route-vip.yaml"


def vip_outcomes(report: Report, name: str) -> dict[str, Outcome]:
    """Scenario (in words) -> the outcome of VIP `name` in region 0."""
    return {
        describe(row.scenario): next(o for o in row.outcomes if o.eip == name)
        for row in report.regions[0].rows
    }


def test_a_vip_held_by_lb1_and_lb3_never_moves_to_lb2() -> None:
    report = analyse(compile_spec(SECONDARY).plan)
    assert report.regions[0].vips == ("db",)
    db = vip_outcomes(report, "db")
    for scenario, out in db.items():
        assert out.strategy == "secondary_ip"
        assert [n.lb for n in out.nodes] == ["lb1", "lb3"], scenario
        assert out.holder in ("lb1", "lb3", ""), scenario
        live = [n for n in out.nodes if n.state == "up"]
        # on exactly one live holder, the highest (or none when no holder is live) ...
        if live:
            assert out.node(out.holder).priority == max(n.priority for n in live), scenario
        else:
            assert out.holder == "", scenario
        # ... the owner whenever it is healthy (the ladder is 110 against 100)
        if out.node("lb1").healthy:
            assert out.holder == "lb1", scenario
    assert db["all healthy"].holder == "lb1"
    assert db["lb1 down"].holder == "lb3"
    # both holders lost: the VIP is lost, although lb2 is up and holds every EIP
    lost = db["lb1 down + lb3 down"]
    assert lost.holder == "" and lost.runner_up == ""
    eips = next(r for r in report.regions[0].rows if describe(r.scenario) == "lb1 down + lb3 down")
    assert {o.eip: o.holder for o in eips.outcomes if o.strategy == "eip"} == dict.fromkeys(
        ("eip1", "eip2", "eip3"), "lb2"
    )


def _with_checks(tmp_path: Path, checks: list[dict[str, object]]) -> Path:
    yaml = YAML()
    doc = yaml.load(SECONDARY.read_text())
    doc["keepalived"]["checks"] = checks
    path = tmp_path / "ha.yaml"
    with path.open("w") as out:
        yaml.dump(doc, out)
    return path


def test_a_non_holder_is_never_the_healthy_peer_of_a_vip(tmp_path: Path) -> None:
    """HAProxy at +30: lb1 keeps db with HAProxy down once lb3 is gone, while lb2 is healthy;
    lb2 cannot hold db, so that is no error (for an EIP it would be one)."""
    spec = _with_checks(tmp_path, [{"name": "chk_haproxy", "process": "haproxy", "weight": 30}])
    report = analyse(compile_spec(spec).plan)
    out = vip_outcomes(report, "db")["chk_haproxy fails on lb1 + lb3 down"]
    assert out.holder == "lb1" and not out.node("lb1").haproxy_up
    assert not [f for f in report.findings if f.severity is Severity.ERROR]


def _lower_backup(plan: Plan, lb: str, vip: str, priority: int) -> Plan:
    """`plan` with `lb`'s base priority in VIP `vip` set to `priority` (region 0)."""
    region = plan.regions[0]
    lbs = tuple(
        b._replace(
            instances=tuple(
                i._replace(priority=priority) if i.name == vip else i for i in b.instances
            )
        )
        if b.key == lb
        else b
        for b in region.load_balancers
    )
    return plan._replace(regions=(region._replace(load_balancers=lbs), *plan.regions[1:]))


def test_the_proof_rejects_a_vip_kept_by_a_broken_holder(tmp_path: Path) -> None:
    """Only the VIP's ladder is wrong (lb3 at 80 + 25 under lb1's 110 with HAProxy down): the
    error names the VIP, so the VIP's instance is proven like an EIP's."""
    spec = _with_checks(tmp_path, [{"name": "chk_haproxy", "process": "haproxy", "weight": 25}])
    plan = compile_spec(spec).plan
    assert not [f for f in findings(plan, analyse_regions(plan)) if f.severity is Severity.ERROR]
    broken = _lower_backup(plan, "lb3", "db", 80)
    errors = [f for f in findings(broken, analyse_regions(broken)) if f.severity is Severity.ERROR]
    assert len(errors) == 1
    assert "chk_haproxy fails on lb1, VIP db: lb1 keeps it with HAProxy down" in errors[0].message
    assert "although lb3 is healthy at 105" in errors[0].message


def test_a_route_vips_bound_adds_the_route_propagation() -> None:
    report = analyse(compile_spec(ROUTE).plan)
    assert PROPAGATION["route"] > 0 and PROPAGATION["eip"] == 0
    assert {(t.instance, t.strategy) for t in report.vip_timings} == {
        ("api", "route"),
        ("mesh", "route"),
    }
    for eip in report.timings:
        assert eip.propagation == 0 and eip.total == round(eip.decide + eip.claim_budget, 2)
        for vip in (v for v in report.vip_timings if (v.event, v.check) == (eip.event, eip.check)):
            assert vip.region == "eu-central-1" and vip.decide == eip.decide
            assert vip.propagation == PROPAGATION["route"]
            assert vip.total == round(eip.total + PROPAGATION["route"], 2)


def test_explain_shows_the_vip_columns_and_their_timing() -> None:
    result = invoke_cli("explain", str(SECONDARY))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "who holds each EIP and VIP" in text
    assert "db (secondary_ip, owner lb1, held by lb1/lb3)" in text
    table = text[text.index("db (secondary_ip") :]
    row = next(ln for ln in table.splitlines() if ln.startswith("lb1 down + lb3 down"))
    assert row.split()[-2:] == ["none", "-/-"]
    assert "secondary_ip VIP moved within" in text
    lost = next(ln for ln in text.splitlines() if ln.startswith("a load balancer is lost"))
    # the EIPs' table first (63.65 s), then the VIP's: + 5 s propagation
    assert [ln.split()[-2] for ln in text.splitlines() if ln.startswith(lost[:24])][-1] == "68.65"
    words = " ".join(text.split())
    assert "AWS documents no time for that" in words
    route = invoke_cli("explain", str(ROUTE)).stdout
    assert "api (route, owner lb1)" in route and "mesh (route, owner lb2)" in route
    assert "held by" not in route  # both VIPs are held by every load balancer


def test_explain_json_and_readme_carry_the_vips() -> None:
    doc = json.loads(invoke_cli("explain", str(SECONDARY), "--json").stdout)
    region = doc["regions"][0]
    assert region["vips"] == ["db"]
    healthy = region["scenarios"][0]
    assert set(healthy["eips"]) == {"eip1", "eip2", "eip3"}
    assert healthy["vips"]["db"]["strategy"] == "secondary_ip"
    assert set(healthy["vips"]["db"]["nodes"]) == {"lb1", "lb3"}
    assert {t["vip"] for t in doc["vip_timing"]} == {"db"}
    view = present.view(analyse(compile_spec(SECONDARY).plan))
    assert view.regions[0].headers[-1] == "db (secondary_ip, owner lb1, held by lb1/lb3)"
    assert view.timing_headers[-2] == "secondary_ip VIP moved within"
    assert view.failback[0].startswith("Private VIPs moved by secondary_ip (db)")


def test_specs_without_vips_have_no_vip_output() -> None:
    blog = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
    report = analyse(compile_spec(blog).plan)
    assert report.vip_timings == () and report.regions[0].vips == ()
    doc = present.data(report)
    assert "vip_timing" not in doc and "vips" not in doc["regions"][0]
    assert "vips" not in doc["regions"][0]["scenarios"][0]
    assert present.view(report).timing_headers == present.TIMING_HEADERS


def test_a_vips_ladder_is_part_of_the_layout() -> None:
    """Regions share an analysis only when their VIPs are alike too: a region whose VIP ladder
    differs is analysed itself, not given the first region's rows."""
    plan = compile_spec(SECONDARY).plan
    region = plan.regions[0]
    same = region._replace(name="eu-west-2")
    other = _lower_backup(plan, "lb3", "db", 80).regions[0]._replace(name="eu-west-3")
    reports = analyse_regions(plan._replace(regions=(region, same, other)))
    assert [r.same_as for r in reports] == ["", "eu-west-1", ""]
    assert reports[1].vips == ("db",)
    priorities = [vip_outcomes(Report(reports[i:], (), (), (), (), "", ""), "db") for i in (0, 2)]
    assert priorities[0]["all healthy"].node("lb3").priority == 100
    assert priorities[1]["all healthy"].node("lb3").priority == 80
