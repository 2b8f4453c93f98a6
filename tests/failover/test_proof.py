"""The failover proof: scenario outcomes, rejected weights located at the right line, warnings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hacompile.errors import Severity, SpecError
from hacompile.failover import analyse
from hacompile.failover.model import NodeState, Report
from hacompile.failover.scenarios import decide, describe, effective
from hacompile.load import load
from hacompile.pipeline import check, compile_spec
from hacompile.plan.model import Check
from tests.conftest import ROOT, run_cli
from tests.failover.specs import (
    GATEWAY,
    LADDER,
    blog_checks,
    haproxy_check,
    line_of,
    write_spec,
)

BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
SSHD = "{name: chk_sshd, process: sshd, interval: 5, weight: %d, fall: 2, rise: 1}"


def report(path: Path) -> Report:
    return analyse(compile_spec(path).plan)


def row(rep: Report, label: str, region: int = 0) -> dict[str, tuple[str, dict[str, str]]]:
    """{eip: (holder, {lb: priority or state})} for the scenario described as `label`."""
    for r in rep.regions[region].rows:
        if describe(r.scenario) == label:
            return {
                o.eip: (
                    o.holder,
                    {n.lb: str(n.priority) if n.state == "up" else n.state for n in o.nodes},
                )
                for o in r.outcomes
            }
    raise AssertionError(f"no scenario {label!r}")


def test_effective_priority_follows_keepalived() -> None:
    checks = (
        Check("up", "process", "haproxy", 2, 6, 2, 1),
        Check("down", "process", "sshd", 5, -4, 2, 1),
        Check("gw", "gateway", "", 3, 0, 2, 3),
    )
    assert effective(101, checks, frozenset()) == 107
    assert effective(101, checks, frozenset({"up"})) == 101
    assert effective(101, checks, frozenset({"down"})) == 103
    assert effective(101, checks, frozenset({"gw"})) is None  # FAULT
    big = (Check("big", "process", "x", 1, 200, 1, 1),)
    assert effective(100, big, frozenset()) == 254  # clamped like keepalived
    assert effective(5, (Check("n", "process", "x", 1, -200, 1, 1),), frozenset({"n"})) == 1


def test_ties_go_to_the_higher_primary_ip() -> None:
    a = NodeState("lb1", "10.0.1.10", "up", 100, True, True)
    b = NodeState("lb2", "10.0.2.10", "up", 100, True, True)
    out = decide("eip1", "lb1", (a, b))
    assert out.holder == "lb2" and out.tie and out.margin == 0
    c = NodeState("lb2", "10.0.2.10", "FAULT", 0, True, False)
    assert decide("eip1", "lb1", (a, c)).holder == "lb1"
    assert (
        decide("eip1", "lb1", (NodeState("lb1", "10.0.1.10", "down", 0, False, False), c)).holder
        == ""
    )


def test_blog_comes_out_as_the_blog_describes() -> None:
    rep = report(BLOG)
    rows = rep.regions[0].rows
    assert [r.scenario.kind for r in rows].count("single") == 8  # 4 checks x 2 nodes
    assert [r.scenario.kind for r in rows].count("node_down") == 2
    assert len(rows) == 49  # + healthy, 37 pairs, all HAProxy down
    # "each load balancer is the MASTER instance of its own EIP": 101 + 6 against 100 + 6
    assert row(rep, "all healthy") == {
        "eip1": ("lb1", {"lb1": "107", "lb2": "106"}),
        "eip2": ("lb2", {"lb1": "106", "lb2": "107"}),
    }
    # "An error status will subtract 4" / "An OK status will add 6": every failure on lb1 is
    # larger than the 1-point gap, so lb2 takes eip1 ...
    assert row(rep, "chk_sshd fails on lb1")["eip1"] == ("lb2", {"lb1": "103", "lb2": "106"})
    assert row(rep, "chk_networkd fails on lb1")["eip1"] == ("lb2", {"lb1": "103", "lb2": "106"})
    assert row(rep, "chk_lb fails on lb1")["eip1"] == ("lb2", {"lb1": "101", "lb2": "106"})
    # ... chk_gw (weight 0) puts lb1 in FAULT ...
    assert row(rep, "chk_gw fails on lb1")["eip1"] == ("lb2", {"lb1": "FAULT", "lb2": "106"})
    # ... and "in the event of a failure, one load balancer assumes control of both EIPs".
    for label in ("chk_sshd fails on lb1", "chk_lb fails on lb1", "lb1 down"):
        assert {eip: holder for eip, (holder, _) in row(rep, label).items()} == {
            "eip1": "lb2",
            "eip2": "lb2",
        }
    # "Once the original load balancer recovers, the EIP will return to it automatically": with
    # the blog's preempt_delay 0 the owner takes it back as soon as it is highest again.
    assert any(line.startswith("Failback is immediate (preempt_delay 0)") for line in rep.failback)
    assert not [f for f in rep.findings if f.severity is Severity.ERROR]


def test_blog_warns_about_its_one_point_margin() -> None:
    validated = check(BLOG)
    margin = [d for d in validated.warnings if "1-point margin" in d.message]
    assert len(margin) == 1
    assert margin[0].path == "keepalived.priority.master"
    assert margin[0].line == line_of(BLOG, "priority: {master: 101")


def test_weight_too_small_is_rejected_at_its_line(tmp_path: Path) -> None:
    # The blog's checks with chk_lb at +1: HAProxy down on lb1 leaves 101 against lb2's 101.
    spec = write_spec(tmp_path, flavor="hapee", checks=blog_checks(lb_weight=1))
    result = run_cli("validate", str(spec))
    assert result.returncode == 2
    errors = [ln for ln in result.stderr.splitlines() if ": error: " in ln]
    assert len(errors) == 1, result.stderr
    line, col = (
        int(x) for x in re.match(rf"{re.escape(str(spec))}:(\d+):(\d+):", errors[0]).groups()
    )  # type: ignore[union-attr]
    assert line == line_of(spec, "chk_lb")
    assert spec.read_text().splitlines()[line - 1][col - 1 :].startswith("weight: 1")
    assert "keepalived.checks[2].weight" in errors[0]
    assert "HAProxy down" in errors[0] and "use 2 or more" in errors[0]
    # The advised weight passes the proof.
    fixed = write_spec(tmp_path, flavor="hapee", checks=blog_checks(lb_weight=2), name="ok.yaml")
    assert run_cli("validate", str(fixed)).returncode == 0


def test_negative_weight_advice_is_enough(tmp_path: Path) -> None:
    def spec(weight: int, name: str) -> Path:
        return write_spec(
            tmp_path, count=3, priority=LADDER, name=name, checks=[haproxy_check(weight), GATEWAY]
        )

    broken = spec(-5, "ha.yaml")
    with pytest.raises(SpecError) as caught:
        check(broken)
    [error] = caught.value.errors
    assert error.path == "keepalived.checks[0].weight"
    assert error.line == line_of(broken, "chk_haproxy")
    advice = re.search(r"use (-\d+) or more", error.message)
    assert advice, error.message
    weight = int(advice.group(1))
    fixed = spec(weight, "ok.yaml")
    assert check(fixed).spec.keepalived.checks[0].weight == weight  # type: ignore[index]
    with pytest.raises(SpecError):
        check(spec(weight + 1, "short.yaml"))


def test_positive_weight_advice_covers_the_pair_case(tmp_path: Path) -> None:
    # 110/100/95 with +6: lb3 (95 + 6) must beat lb1 (110) while lb2 is down, so 16, not 11.
    def spec(weight: int, name: str) -> Path:
        return write_spec(
            tmp_path, count=3, priority=LADDER, name=name, checks=[haproxy_check(weight), GATEWAY]
        )

    broken = spec(6, "ha.yaml")
    with pytest.raises(SpecError) as caught:
        check(broken)
    [error] = caught.value.errors
    assert error.path == "keepalived.checks[0].weight"
    assert error.line == line_of(broken, "chk_haproxy")
    assert "use 16 or more" in error.message
    assert check(spec(16, "ok.yaml"))
    with pytest.raises(SpecError):
        check(spec(15, "short.yaml"))


def test_spec_without_a_haproxy_check_is_rejected(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, count=3, priority=LADDER, checks=[GATEWAY])
    with pytest.raises(SpecError) as caught:
        check(spec)
    [error] = caught.value.errors
    assert error.path == "keepalived.checks"
    assert error.line == line_of(spec, "  checks:")
    assert "no check watches the HAProxy process `haproxy`" in error.message


def test_hapee_with_checks_on_the_wrong_process_is_rejected(tmp_path: Path) -> None:
    # HAPEE runs `hapee-lb`: a check on `haproxy` never sees it die, whatever its weight.
    for weight in (0, 30):
        spec = write_spec(
            tmp_path,
            flavor="hapee",
            priority="{master: 110, backup: 100}",
            checks=[haproxy_check(weight, process="haproxy"), GATEWAY],
            name=f"w{weight}.yaml",
        )
        with pytest.raises(SpecError) as caught:
            check(spec)
        [error] = caught.value.errors
        assert error.path == "keepalived.checks"
        assert error.line == line_of(spec, "  checks:")
        assert "no check watches the HAProxy process `hapee-lb`" in error.message
    # The same checks on `hapee-lb` pass.
    right = write_spec(
        tmp_path,
        flavor="hapee",
        priority="{master: 110, backup: 100}",
        checks=[haproxy_check(0, process="hapee-lb"), GATEWAY],
    )
    assert analyse(compile_spec(right).plan).haproxy_checks == ("chk_haproxy",)


@pytest.mark.parametrize("flavor,process", [("hapee", "hapee-lb"), ("community", "haproxy")])
def test_default_checks_watch_the_flavours_haproxy(
    tmp_path: Path, flavor: str, process: str
) -> None:
    spec = write_spec(tmp_path, flavor=flavor, priority="{master: 110, backup: 100}")
    assert "checks" not in spec.read_text()
    validated = check(spec)
    assert not validated.warnings
    plan = compile_spec(spec).plan
    [watcher] = [c for c in plan.keepalived.checks if c.kind == "process" and c.process == process]
    assert watcher.name == "chk_haproxy" and watcher.weight == 0  # FAULT: resign at once
    rep = analyse(plan)
    assert rep.haproxy_checks == ("chk_haproxy",) and rep.haproxy_process == process
    assert row(rep, "chk_haproxy fails on lb1")["eip1"] == ("lb2", {"lb1": "FAULT", "lb2": "100"})
    assert not rep.findings


def test_tie_between_broken_and_healthy_node_is_an_error(tmp_path: Path) -> None:
    # 101/100 with +1: HAProxy down on lb1 leaves 101 against lb2's 101. An election would give
    # eip1 to lb2 (higher IP), but a running MASTER keeps it: history decides, so reject.
    spec = write_spec(tmp_path, flavor="hapee", checks=blog_checks(lb_weight=1))
    rep = report_unchecked(spec)
    outcome = next(
        o
        for r in rep.regions[0].rows
        if describe(r.scenario) == "chk_lb fails on lb1"
        for o in r.outcomes
        if o.eip == "eip1"
    )
    assert outcome.tie and outcome.holder == "lb2"
    assert any(
        "a tie: history decides" in f.message for f in rep.findings if f.severity is Severity.ERROR
    )


def report_unchecked(spec: Path) -> Report:
    from hacompile.plan.build import build_plan
    from hacompile.validate import validate

    return analyse(build_plan(validate(load(spec)).spec, spec.name))


@pytest.mark.parametrize("weight", [0, 30])
def test_three_lbs_take_over_in_ladder_order(tmp_path: Path, weight: int) -> None:
    spec = write_spec(tmp_path, count=3, priority=LADDER, checks=[haproxy_check(weight), GATEWAY])
    rep = report(spec)
    # Each EIP's backups in a fixed order: the next load balancer at 100, the one after at 95.
    assert {e: h for e, (h, _) in row(rep, "all healthy").items()} == {
        "eip1": "lb1",
        "eip2": "lb2",
        "eip3": "lb3",
    }
    assert row(rep, "lb1 down")["eip1"][0] == "lb2"
    assert row(rep, "lb1 down + lb2 down")["eip1"][0] == "lb3"
    assert row(rep, "lb2 down")["eip2"][0] == "lb3"
    assert row(rep, "lb2 down + lb3 down")["eip2"][0] == "lb1"
    assert row(rep, "lb3 down")["eip3"][0] == "lb1"
    assert row(rep, "lb1 down + lb3 down")["eip3"][0] == "lb2"
    both = row(rep, "chk_haproxy fails on lb1 + lb2 down")["eip1"]
    everyone = {e: h for e, (h, _) in row(rep, "HAProxy down on every node").items()}
    if weight:  # +30 while HAProxy runs: lb1 drops to 110, lb3 has 95 + 30
        assert both == ("lb3", {"lb1": "110", "lb2": "down", "lb3": "125"})
        assert everyone == {"eip1": "lb1", "eip2": "lb2", "eip3": "lb3"}
    else:  # weight 0: lb1 is in FAULT and resigns
        assert both == ("lb3", {"lb1": "FAULT", "lb2": "down", "lb3": "95"})
        assert everyone == {"eip1": "", "eip2": "", "eip3": ""}
    assert not rep.findings


def test_a_tie_is_warned_at_the_weight_that_makes_it(tmp_path: Path) -> None:
    # 110/100 with chk_sshd -10: sshd failing on lb1 leaves it at 100, tied with lb2.
    spec = write_spec(
        tmp_path,
        priority="{master: 110, backup: 100}",
        checks=[haproxy_check(0), SSHD % -10, GATEWAY],
    )
    validated = check(spec)
    ties = [d for d in validated.warnings if "tie at priority 100" in d.message]
    assert len(ties) == 1, validated.warnings
    assert ties[0].path == "keepalived.checks[1].weight"
    assert ties[0].line == line_of(spec, "chk_sshd")
    assert all(d.severity is Severity.WARNING for d in validated.warnings)
    # One more point of weight removes the tie (and leaves no 1-point margin either).
    wider = write_spec(
        tmp_path,
        priority="{master: 110, backup: 100}",
        name="ok.yaml",
        checks=[haproxy_check(0), SSHD % -12, GATEWAY],
    )
    assert not check(wider).warnings


def test_default_checks_are_blamed_at_the_priority(tmp_path: Path) -> None:
    # No checks in the spec: the default chk_sshd (-4) ties 104 with 100. Its weight appears
    # nowhere in the spec, so the warning is located at the priority it has to outweigh.
    spec = write_spec(tmp_path, priority="{master: 104, backup: 100}")
    validated = check(spec)
    ties = [d for d in validated.warnings if "tie at priority 100" in d.message]
    assert len(ties) == 1, validated.warnings
    assert ties[0].path == "keepalived.checks[1].weight"
    assert ties[0].line == line_of(spec, "priority: {master: 104")
