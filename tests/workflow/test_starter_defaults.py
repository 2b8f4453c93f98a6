"""The starter's numbers follow the project's findings: HAProxy's check at weight 0 (its death
moves the EIPs in seconds, not after preempt_delay) and a priority step whose takeover timers
stay apart with three or more load balancers."""

from __future__ import annotations

from pathlib import Path

import pytest

from hacompile.failover import analyse
from hacompile.pipeline import check, compile_spec
from hacompile.starter import Choices, render


@pytest.mark.parametrize("flavor", ["community", "hapee"])
def test_starter_haproxy_death_does_not_wait_for_preempt_delay(tmp_path: Path, flavor: str) -> None:
    spec = tmp_path / "ha.yaml"
    spec.write_text(render(Choices(lbs=3, flavor=flavor)))
    compiled = compile_spec(spec)
    [haproxy] = [c for c in compiled.plan.keepalived.checks if c.name == "chk_haproxy"]
    assert haproxy.weight == 0
    [timing] = [t for t in analyse(compiled.plan).timings if t.check == "chk_haproxy"]
    assert timing.event == "fault_check"
    assert timing.decide < compiled.plan.keepalived.preempt_delay  # was 18.6 s at +30


def test_starter_step_keeps_backups_takeover_timers_apart(tmp_path: Path) -> None:
    spec = tmp_path / "ha.yaml"
    spec.write_text(render(Choices(lbs=8)))
    prio = check(spec).spec.keepalived.priority
    assert prio.step / 256 >= 0.020  # VRRPv2 skew: step / 256 s between neighbouring backups
