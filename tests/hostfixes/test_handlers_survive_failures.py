"""A config written by a run that then fails must still be loaded (finding 3 of issue 10).

Found on booted hosts: a run failed after haproxy.cfg was written, its handlers never ran, and
the re-run found nothing to change, so it reported `ok` and HAProxy kept the old config. Every
play now sets `force_handlers`, and each role flushes its handlers right after its config write,
before any later task can fail. (The booted lab's reload test shows the other half: the play
fails while HAProxy does not serve the written config.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

BUNDLES = sorted((ROOT / "tests" / "golden").iterdir())


def _tasks(path: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for task in yaml.safe_load(path.read_text()) or []:
        if "block" not in task:
            out.append(task)
        for key in ("block", "rescue", "always"):
            out.extend(task.get(key) or [])
    return out


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
def test_every_play_forces_handlers(bundle: Path) -> None:
    plays = yaml.safe_load((bundle / "ansible" / "site.yml").read_text())
    assert plays and all(play.get("force_handlers") is True for play in plays)


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda p: p.name)
@pytest.mark.parametrize("role", ["haproxy", "keepalived"])
def test_a_config_write_is_flushed_before_anything_else_can_fail(bundle: Path, role: str) -> None:
    tasks = _tasks(bundle / "ansible" / "roles" / role / "tasks" / "main.yml")
    writes = [i for i, t in enumerate(tasks) if "notify" in t]
    flushes = [i for i, t in enumerate(tasks) if t.get("ansible.builtin.meta") == "flush_handlers"]
    assert writes and flushes
    last_write = max(writes)
    first_flush_after = min(i for i in flushes if i > last_write)
    between = tasks[last_write + 1 : first_flush_after]
    # Only read-only steps may stand between the last config write and the flush.
    for task in between:
        assert set(task) & {
            "ansible.builtin.systemd_service",
            "ansible.builtin.set_fact",
            "ansible.builtin.copy",
        }, task.get("name")
        assert (
            "state" not in (task.get("ansible.builtin.systemd_service") or {})
            or task["ansible.builtin.systemd_service"].get("state") == "started"
        ), task.get("name")
