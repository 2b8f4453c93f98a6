"""One pass downhill: each stage (load, rules, plan, proof, render) runs once per command.

Counted in-process: every binding of a stage function in a loaded hacompile module is wrapped
with a counter, so a stage called twice under any name (or hidden behind a cache) shows up.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import hacompile.cli
import hacompile.failover
import hacompile.lab.compile
import hacompile.pipeline
import hacompile.render.bundle
import hacompile.spec.rules
import hacompile.validate
from hacompile.cli import app
from hacompile.load import load
from hacompile.plan.build import build_plan
from tests.conftest import ROOT

BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
STAGES: dict[str, Callable[..., Any]] = {
    "load": load,
    "rules": hacompile.spec.rules.check,
    "plan": build_plan,
    "proof": hacompile.failover.analyse,
    "render": hacompile.render.bundle.render,
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counted: Counter[str] = Counter()

    def counting(stage: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counted[stage] += 1
            return real(*args, **kwargs)

        return wrapper

    for name, module in list(sys.modules.items()):
        if not name.startswith("hacompile") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            for stage, real in STAGES.items():
                if value is real:
                    monkeypatch.setattr(module, attr, counting(stage, real))
    return counted


def _run(*args: str) -> int:
    return CliRunner().invoke(app, list(args)).exit_code


def test_build_runs_each_stage_once(calls: Counter[str], tmp_path: Path) -> None:
    assert _run("build", str(BLOG), "-o", str(tmp_path / "out"), "-q") == 0
    assert calls == {"load": 1, "rules": 1, "plan": 1, "proof": 1, "render": 1}


def test_validate_runs_each_stage_once_and_renders_nothing(calls: Counter[str]) -> None:
    assert _run("validate", str(BLOG), "-q") == 0
    assert calls == {"load": 1, "rules": 1, "plan": 1, "proof": 1}


def test_explain_runs_each_stage_once_and_renders_nothing(calls: Counter[str]) -> None:
    assert _run("explain", str(BLOG), "-q") == 0
    assert calls == {"load": 1, "rules": 1, "plan": 1, "proof": 1}


def test_the_lab_compiles_in_one_pass(calls: Counter[str], tmp_path: Path) -> None:
    hacompile.lab.compile.compile_for_lab(BLOG, tmp_path / "bundle")
    assert calls == {"load": 1, "rules": 1, "plan": 1, "proof": 1, "render": 1}


@pytest.mark.parametrize(
    ("line", "notes"),
    [
        ("  process_checks: script\n", 0),  # as the blog has it: nothing to change
        ("  process_checks: track_process\n", 1),
        ("", 1),  # unset: the default, track_process
    ],
)
def test_the_lab_overrides_process_checks_before_validation(
    tmp_path: Path, line: str, notes: int
) -> None:
    text = BLOG.read_text().replace("  process_checks: script\n", line)
    spec = tmp_path / "ha.yaml"
    spec.write_text(text)
    build = hacompile.lab.compile.compile_for_lab(spec, tmp_path / "bundle")
    assert build.plan.keepalived.process_checks == "script"
    assert (
        list(build.notes)
        == [
            "keepalived.process_checks: track_process -> script: "
            "vrrp_track_process needs the kernel's process connector, "
            "which a network namespace lacks"
        ]
        * notes
    )
