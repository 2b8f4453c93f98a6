"""The fault matrix, once, in the namespace lab, on the 3-LB blueprint, less three faults the
booted runs cover (BOOTED_ONLY; the blog's whole matrix and the private-VIP blueprints' run on
booted hosts: tests/lab/test_booted.py). Labs ran in parallel
once, to save time; on a 2-vCPU machine one lab's set-up
(moto, daemons, AWS CLI runs) then delayed another's Keepalived enough to change who won a
takeover (docs/failover.md, "Two backups, one takeover"), which fails the run for a reason no
real load balancer shares with its neighbours' test harness.

Asserts the pass criteria and ranges, never exact times: every EIP back on its rightful owner
after each heal, no ping-pong, no EIP left on a failed node beyond the budget derived from the
compiler's own timing model, injected API failures visible in the call counts. Every run has
its own prefix and is destroyed in a finally, also when the run raises.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from hacompile.lab import netns
from hacompile.lab.main import LabRun, run_lab
from hacompile.lab.report import table, timeline
from hacompile.lab.scenarios import select
from hacompile.lab.topology import LAB_ROOT, new_prefix

pytestmark = [pytest.mark.lab, pytest.mark.root, pytest.mark.tools]

REPO = Path(__file__).resolve().parents[2]
THREE = REPO / "blueprints" / "three-lb-existing-backends.yaml"
# The blog and the two private-VIP blueprints run their whole matrix on booted hosts (tests/lab/
# test_booted.py), the stronger proof of the same observer and criteria. The namespace lab, the
# fast inner loop `hacompile lab` runs without --booted, keeps one whole matrix here: the 3-LB
# blueprint's, the one with two failures in a row and the busy family. The blog's namespace
# matrix (~4 min of CI) proved nothing its booted matrix misses. `hacompile lab
# blueprints/blog-aws-keepalived.yaml` still runs it by hand.
SPECS = {"three": THREE}
LABS = SPECS
LBS = {"three": 3}
VIPS: dict[str, dict[str, tuple[str, ...]]] = {"three": {}}
# The busy family's CI share (issue 16; the whole family: `hacompile lab --scenario busy`, or
# benchmarks/failover.py --busy): on the three-LB lab, after the matrix, Keepalived SIGKILLed
# on lb1 and started again while every LB's CPUs are busy, the run in which eip2 (owner lb2,
# healthy) once moved to lb3 and back. About 90 s, no extra lab set-up.
BUSY = {"three": ("busy-keepalived-killed",)}
# Faults whose namespace run proves nothing the booted runs miss (tests/lab/test_booted.py: the
# blog's whole booted matrix, lb-lost on every booted blueprint): a graceful stop, a lost node, a
# pulled link move an address as their booted runs do. Cut from CI in issue 17 for time;
# `hacompile lab blueprints/three-lb-existing-backends.yaml` still runs them.
BOOTED_ONLY = ("keepalived-stopped", "lb-lost", "link-down")
OWNER_FAILS = (
    "haproxy-killed",
    "keepalived-killed",
    "keepalived-stopped",
    "lb-lost",
    "link-down",
    "api-errors",
    "api-throttled",
    "two-failures",
)


@pytest.fixture(scope="module")
def runs(lab_ready: None) -> dict[str, LabRun]:
    prefixes = {name: new_prefix() for name in LABS}
    out: dict[str, LabRun] = {}
    try:
        for name, spec in LABS.items():  # every wait inside run_lab is bounded
            matrix = [s.name for s in select(None, LBS[name]) if s.name not in BOOTED_ONLY]
            out[name] = run_lab(
                spec, prefix=prefixes[name], scenarios=[*matrix, *BUSY.get(name, ())]
            )
    finally:
        for prefix in prefixes.values():
            netns.destroy(prefix)
            shutil.rmtree(LAB_ROOT / prefix, ignore_errors=True)
    for prefix in prefixes.values():
        assert netns.lab_namespaces(prefix) == [], "namespaces left behind"
        assert not (LAB_ROOT / prefix).exists()
    for name, run in out.items():
        print(f"\n{name}:\n" + "\n".join(table(run.results)))
    return out


def results(runs: dict[str, LabRun], name: str) -> dict[str, dict[str, Any]]:
    """Scenario -> result for one spec."""
    return {r["scenario"]: r for r in runs[name].results}


@pytest.mark.parametrize("name", list(SPECS))
def test_every_scenario_passes(runs: dict[str, LabRun], name: str) -> None:
    got = results(runs, name)
    expected = {"haproxy-killed", "keepalived-killed", "split-brain", "api-errors", "api-throttled"}
    if LBS[name] == 3:
        expected.add("two-failures")
    expected |= set(BUSY.get(name, ()))
    assert set(got) == expected
    failed = {s: r["problems"] for s, r in got.items() if not r["passed"]}
    # The timelines of the failed scenarios: a lab failure must be diagnosable from CI's log.
    assert not failed, "\n".join(
        [repr(failed)] + [line for s in failed for line in timeline(got[s])]
    )


@pytest.mark.parametrize("name", list(SPECS))
def test_failover_ranges(runs: dict[str, LabRun], name: str) -> None:
    rightful = {f"eip{k + 1}": f"lb{k + 1}" for k in range(LBS[name])}
    rightful |= {vip: holders[0] for vip, holders in VIPS[name].items()}
    for scenario, r in results(runs, name).items():
        assert r["final_owners"] == rightful, scenario
        inject = r["inject"]
        if scenario.removeprefix("busy-") in OWNER_FAILS:
            moved = inject["eip_moved_s"]["eip1"]
            assert 0 < moved <= r["budget_s"], (scenario, moved)
            if scenario != "two-failures":  # there eip1 is down twice
                assert inject["serving_again_s"]["eip1"] <= r["budget_s"] + 2, scenario
            assert r["heal"]["moves"]["eip1"][-1][1] == "lb1", scenario  # failback happened
        for eip in rightful:
            most = 4 if scenario == "split-brain" else 2  # see runner.run_scenario
            assert len(inject["moves"][eip]) <= most and len(r["heal"]["moves"][eip]) <= 2


@pytest.mark.parametrize("name", list(SPECS))
def test_api_faults_show_in_the_call_counts(runs: dict[str, LabRun], name: str) -> None:
    got = results(runs, name)
    errors = got["api-errors"]["inject"]
    assert errors["associate_failed"] == 3 and errors["associate_calls"] >= 4
    throttled = got["api-throttled"]["inject"]
    assert throttled["associate_calls"] >= 1 and throttled["api_calls"] >= 5
    plain = got["haproxy-killed"]["inject"]
    assert plain["associate_failed"] == 0 and 1 <= plain["associate_calls"] <= 2


@pytest.mark.parametrize("name", list(SPECS))
def test_split_brain_happens_and_heals_to_the_owners(runs: dict[str, LabRun], name: str) -> None:
    split = results(runs, name)["split-brain"]
    moves = split["inject"]["moves"]["eip1"]
    assert [lb for _, lb in moves][-1:] == ["lb1"]  # the owner's reconcile took it back
    assert len(moves) in (0, 2, 4)  # 4: the other side's claim retried once (runner)
    assert split["inject"]["associate_calls"] >= 1  # the other side did claim


@pytest.mark.parametrize("name", [n for n in SPECS if n in BUSY])
def test_busy_moves_no_address_of_a_healthy_owner(runs: dict[str, LabRun], name: str) -> None:
    """Under load no EIP of a healthy owner moves (the ping-pong: eip2 to lb3 and back), and
    the load did run: the soak before the fault found nothing to move either."""
    for scenario in BUSY[name]:
        r = results(runs, name)[scenario]
        assert r["unexplained_moves"] == 0 and r["soak_moves"] == 0, timeline(r)
        for eip in ("eip2", "eip3"):
            assert r["inject"]["moves"][eip] == [] and r["heal"]["moves"][eip] == [], scenario
