"""Keepalived script checks leave real headroom: a busy host must not turn a slow check into a
FAULT. Found on a booted host at load 3 on two vCPUs: hacompile-check-process watched for 850 ms
inside a 1 s `timeout`, the run was killed, and with weight 0 every instance went FAULT, twice in
30 s. The watch now ends 300 ms before the next run is due and the timeout is a whole second
beyond the watch (keepalived skips, rather than fails, a run that is still going)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hacompile.load import load
from hacompile.plan.build import build_plan
from hacompile.validate import validate
from tests.conftest import ROOT

BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml"))


@pytest.mark.parametrize("spec", BLUEPRINTS, ids=lambda p: p.stem)
def test_every_check_has_headroom(spec: Path) -> None:
    plan = build_plan(validate(load(spec)).spec, spec.name)
    for check in plan.keepalived.checks:
        assert check.timeout * 1000 - check.watch_ms >= 1000, check
        assert check.interval * 1000 - check.watch_ms >= 300, check
        assert check.watch_ms >= 0 and check.timeout >= 1


@pytest.mark.parametrize(
    "bundle", sorted((ROOT / "tests" / "golden").iterdir()), ids=lambda p: p.name
)
def test_rendered_scripts_use_the_planned_watch(bundle: Path) -> None:
    """What keepalived is told (golden bundles) matches: the watch inside the timeout."""
    template = (bundle / "ansible/roles/keepalived/templates/keepalived.conf.j2").read_text()
    assert "check.watch_ms" in template and "check.timeout" in template
    assert not re.search(r"-\s*150", template)
