"""The benchmark scripts run (tiny repetition counts) and report what docs/performance.md
promises. No timing assertions: speed is measured by the scripts, never by tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    proc = subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_compile_benchmark_reports_every_command() -> None:
    report = _run("benchmarks/compile.py", "--runs", "1", "--warmup", "0", "--json")
    assert [r["command"] for r in report["results"]] == [
        "floor",
        "deps",
        "stack",
        "stack+jinja",
        "--help",
        "validate",
        "build",
        "rebuild",
    ]
    rows = {row["command"]: row for row in report["results"]}
    for row in rows.values():
        assert row["median_ms"] > 0 and row["peak_rss_mb"] > 0 and row["ratio"] > 0
    # issue 12: the targets are ratios to the stack rows, not to the floor
    targets = {
        name: (row["baseline"], row["target"])
        for name, row in rows.items()
        if row["target"] is not None
    }
    assert targets == {"validate": ("stack", 1.10), "build": ("stack+jinja", 1.25)}
    for row in rows.values():
        if row["baseline"] is None:
            assert row["baseline_ratio"] is None and row["meets_target"] is None
            continue
        ratio = row["median_ms"] / rows[row["baseline"]]["median_ms"]
        assert abs(row["baseline_ratio"] - ratio) < 0.01
        if row["target"] is not None:
            assert row["meets_target"] == (row["baseline_ratio"] <= row["target"])
    assert set(report["own_work"]) == {"validate_ms", "build_ms"}
    assert "CPUs" in report["machine"]


def test_compile_benchmark_prints_the_targets_verdicts() -> None:
    proc = subprocess.run(
        [sys.executable, "benchmarks/compile.py", "--runs", "1", "--warmup", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    [line] = [line for line in proc.stdout.splitlines() if line.startswith("targets: ")]
    assert "validate " in line and "x stack (target <= 1.10x): " in line
    assert "build " in line and "x stack+jinja (target <= 1.25x): " in line


def test_scaling_benchmark_builds_its_generated_specs() -> None:
    report = _run("benchmarks/scaling.py", "--quick", "--runs", "1", "--json")
    rows = report["results"]
    assert {(r["regions"], r["load_balancers"]) for r in rows} >= {(2, 8)}
    for row in rows:
        assert row["files"] > 0 and row["output_mb"] > 0 and row["peak_rss_mb"] > 0


def test_bounds_benchmark_specs_are_what_its_rows_say(tmp_path: Path) -> None:
    """benchmarks/bounds.py times specs at and past the bounds; they must stay that: the
    at-bound ones pass the shape and the rules (the proof is what the benchmark times), every
    list of all@bound is at its bound, and each over-bound one is refused."""
    import pytest

    from hacompile.errors import SpecError
    from hacompile.load import load
    from hacompile.spec import bounds as b
    from hacompile.validate import validate

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bounds as bench
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    spec = bench.all_at_bound()
    assert len(spec["regions"]) * spec["load_balancers"]["count"] == b.MAX_LB_INSTANCES
    assert len(bench.regions_at_bound()["regions"]) == b.MAX_REGIONS
    assert {len(r["backends"]) for r in spec["regions"]} == {b.MAX_EXISTING_BACKENDS}
    assert {len(r["zones"]) for r in spec["regions"]} == {b.MAX_ZONES}
    assert len(spec["keepalived"]["checks"]) == b.MAX_CHECKS
    assert len(spec["haproxy"]["frontends"]) == b.MAX_FRONTENDS
    assert len(spec["access"]["ssh_cidrs"]) == len(spec["haproxy"]["stats"]["cidrs"]) == b.MAX_CIDRS
    assert len(spec["tags"]) == b.MAX_TAGS
    for name, data in (
        ("all", spec),
        ("checks", bench.checks_at_bound()),
        ("regions", bench.regions_at_bound()),
    ):
        path = tmp_path / f"{name}.yaml"
        path.write_text(json.dumps(data), encoding="utf-8")
        validate(load(path))
    for kind in ("frontends", "backends", "checks", "checks+1", "lbs+1"):
        path = tmp_path / f"over-{kind}.yaml"
        path.write_text(json.dumps(bench.over(kind)), encoding="utf-8")
        with pytest.raises(SpecError):
            validate(load(path))
