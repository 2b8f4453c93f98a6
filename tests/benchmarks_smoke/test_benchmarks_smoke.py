"""The benchmark scripts run (tiny repetition counts) and report what docs/performance.md
promises. No timing assertions: speed is measured by the scripts, never by tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_compile_benchmark_reports_every_command() -> None:
    report = _run("benchmarks/compile.py", "--runs", "1", "--warmup", "0", "--json")
    assert [r["command"] for r in report["results"]] == ["floor", "deps", "stack", "stack+jinja",
                                                       "--help", "validate", "build",
                                                       "rebuild"]
    for row in report["results"]:
        assert row["median_ms"] > 0 and row["peak_rss_mb"] > 0
        assert (row["target"] is None) == (row["command"] in {"floor", "deps", "stack",
                                                              "stack+jinja"})
    assert set(report["own_work"]) == {"validate_ms", "build_ms"}
    assert "CPUs" in report["machine"]


def test_scaling_benchmark_builds_its_generated_specs() -> None:
    report = _run("benchmarks/scaling.py", "--quick", "--runs", "1", "--json")
    rows = report["results"]
    assert {(r["regions"], r["load_balancers"]) for r in rows} >= {(2, 8)}
    for row in rows:
        assert row["files"] > 0 and row["output_mb"] > 0 and row["peak_rss_mb"] > 0
