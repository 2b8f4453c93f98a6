"""Pools and routes on booted hosts: the routed-pools blueprint deployed by its own playbook
(deploy only, no fault matrix), whose post-deploy checks send every route's host and path
through every EIP from the lab's client and require the demo server that answers to name the
pool the routes choose (hacompile.lab.booted.checks.route_checks, docs/routing.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hacompile.lab import netns
from hacompile.lab.main import run_lab
from hacompile.lab.topology import LAB_ROOT, new_prefix

pytestmark = [pytest.mark.lab, pytest.mark.root, pytest.mark.tools]

SPEC = Path(__file__).resolve().parents[2] / "blueprints" / "routed-pools.yaml"


def test_each_host_and_path_reaches_its_pool_through_every_eip(booted_ready: None) -> None:
    prefix = new_prefix()
    try:
        run = run_lab(SPEC, prefix=prefix, booted=True, scenarios=[])
    finally:
        netns.destroy(prefix)
        shutil.rmtree(LAB_ROOT / prefix, ignore_errors=True)
    assert run.deploy is not None
    assert run.deploy["converge"]["returncode"] == 0
    assert all(r["changed"] == 0 for r in run.deploy["idempotence"]["recap"].values())
    failed = [c for c in run.deploy["checks"] if not c["ok"]]
    assert failed == []
    routes = [c for c in run.deploy["checks"] if " -> pool " in c["check"]]
    # 2 EIPs x (4 routes + 1 request no route names), each answered by a server of its pool
    assert len(routes) == 10
    assert {c["check"].rsplit(" ", 1)[1] for c in routes} == {"api", "assets", "web"}
    for check in routes:
        assert f"-{check['check'].rsplit(' ', 1)[1]}-" in check["detail"], check
