"""What every bundle carries for day 2 (issue 17), read back from a fresh build: the
maintenance check on every VRRP instance, the tools on the node, and a maintenance.yml whose
structure is the procedure's promise (refuse first, then one node at a time, stop on the first
failure). The booted lab runs it for real (tests/lab/test_booted.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hacompile.pipeline import compile_spec
from tests.conftest import ROOT

BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml"))


def _files(spec: Path) -> dict[str, bytes]:
    bundle = compile_spec(spec).bundle
    return {str(f.path): f.content for f in bundle.files}


@pytest.mark.parametrize("spec", BLUEPRINTS, ids=lambda p: p.stem)
def test_every_instance_tracks_the_maintenance_check(spec: Path) -> None:
    files = _files(spec)
    conf = files["ansible/roles/keepalived/templates/keepalived.conf.j2"].decode()
    assert 'script "/usr/bin/test ! -e /etc/hacompile/maintenance"' in conf
    assert re.search(r"vrrp_script hacompile_maintenance \{[^}]*weight 0\n", conf)
    # the one instance block of the template: its track_script always lists the check first
    instance = conf[conf.index("vrrp_instance {{ instance.name }}") :]
    assert re.search(r"track_script \{\n\s+hacompile_maintenance\n", instance)
    tasks = files["ansible/roles/keepalived/tasks/main.yml"].decode()
    assert "- hacompile-maintenance\n" in tasks
    assert (
        "- hacompile-haproxy-sessions\n" in files["ansible/roles/haproxy/tasks/main.yml"].decode()
    )
    for name in (
        "ansible/roles/keepalived/files/hacompile-maintenance",
        "ansible/roles/haproxy/files/hacompile-haproxy-sessions",
        "ansible/roles/maintenance/tasks/preflight.yml",
    ):
        assert name in files


@pytest.mark.parametrize(
    "spec", [ROOT / "blueprints" / "blog-aws-keepalived.yaml"], ids=lambda p: p.stem
)
def test_maintenance_playbook_refuses_first_then_goes_one_by_one(spec: Path) -> None:
    files = _files(spec)
    plays = YAML(typ="safe").load(files["ansible/maintenance.yml"])
    preflight, rolling = plays
    assert preflight["hosts"] == "lb" and preflight["any_errors_fatal"] is True
    assert "tasks_from" in str(preflight["tasks"][0]) and "preflight.yml" in str(preflight)
    every = preflight["tasks"][1]
    assert every["run_once"] is True and "groups['lb']" in every["ansible.builtin.assert"]["that"]
    assert rolling["serial"] == 1 and rolling["max_fail_percentage"] == 0
    assert rolling["any_errors_fatal"] is True
    assert rolling["hosts"] == "{{ maintenance_hosts | default('lb') }}"
    main = YAML(typ="safe").load(files["ansible/roles/maintenance/tasks/main.yml"])
    block = main[0]
    included = [
        t["ansible.builtin.include_tasks"]
        for t in block["block"]
        if "ansible.builtin.include_tasks" in t
    ]
    assert included == [
        "enter.yml",
        "step.yml",
        "leave.yml",
    ]
    rescue = block["rescue"]
    assert rescue[-1].get("ansible.builtin.fail"), "a rescued failure must still stop the play"
    defaults = YAML(typ="safe").load(files["ansible/roles/maintenance/defaults/main.yml"])
    assert defaults["maintenance_steps"] == []  # a bare run changes nothing on the nodes
    assert all(defaults[k] > 0 for k in defaults if k.endswith("_timeout"))
