"""`hacompile verify` honours --json and --quiet like every other command (README: Output)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hacompile.verify.runner
from hacompile.cli import app
from hacompile.verify.base import CheckResult, Status

BLOG = Path(__file__).resolve().parents[2] / "blueprints" / "blog-aws-keepalived.yaml"


def _verify(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["verify", *args])
    return result.exit_code, result.stdout, result.stderr


def test_verify_json_is_one_document(blog_bundle: Path) -> None:
    code, out, _ = _verify(str(blog_bundle), "--only", "terraform", "--json")
    assert code == 0, out
    document = json.loads(out)
    assert document["command"] == "verify" and document["ok"] is True
    assert document["diagnostics"] == []
    assert document["bundle"] == str(blog_bundle)
    assert (document["passed"], document["failed"], document["unavailable"]) == (1, 0, 0)
    [check] = document["checks"]
    assert check["name"] == "terraform" and check["status"] == "passed"
    assert check["findings"] == [] and isinstance(check["seconds"], float)


def test_verify_json_reports_a_failure_with_its_findings(broken_bundle: object) -> None:
    bundle = broken_bundle(
        "terraform/modules/haproxy-ha/eips.tf",  # type: ignore[operator]
        '  domain = "vpc"',
        '  domian = "vpc"',
    )
    code, out, _ = _verify(str(bundle), "--only", "terraform", "--json")
    document = json.loads(out)
    assert code == 1 and document["ok"] is False and document["failed"] == 1
    assert any("domian: unsupported argument" in f for f in document["checks"][0]["findings"])


def test_verify_json_usage_error_is_a_document(tmp_path: Path) -> None:
    code, out, err = _verify(str(tmp_path / "missing"), "--json")
    assert code == 2 and err == ""
    document = json.loads(out)
    assert document["command"] == "verify" and document["ok"] is False
    assert document["error"] == "not a directory"
    assert document["where"] == str(tmp_path / "missing")
    code, out, _ = _verify(str(tmp_path), "--only", "nosuch", "--json")
    assert code == 2 and "unknown checker(s): nosuch" in json.loads(out)["error"]


def test_verify_quiet_prints_nothing_when_all_pass(blog_bundle: Path) -> None:
    assert _verify(str(blog_bundle), "--only", "terraform", "--quiet") == (0, "", "")


def test_verify_quiet_prints_only_the_failed_checkers(broken_bundle: object) -> None:
    bundle = broken_bundle(
        "terraform/modules/haproxy-ha/eips.tf",  # type: ignore[operator]
        '  domain = "vpc"',
        '  domian = "vpc"',
    )
    code, out, _ = _verify(str(bundle), "--only", "terraform", "--quiet")
    assert code == 1
    assert out.startswith("terraform       failed, ") and "domian" in out
    assert "passed," not in out  # no summary line


def _one_checker(result: CheckResult, monkeypatch: pytest.MonkeyPatch) -> None:
    def run_checks(
        bundle: Path, only: object, on_result: Callable[[CheckResult], None]
    ) -> list[CheckResult]:
        on_result(result)
        return [result]

    monkeypatch.setattr(hacompile.verify.runner, "run_checks", run_checks)


@pytest.mark.parametrize(("status", "code"), [(Status.PASSED, 0), (Status.FAILED, 1)])
def test_build_verify_json_is_still_one_document(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, status: Status, code: int
) -> None:
    _one_checker(CheckResult("terraform", status, ("x.tf: broken",) * (code == 1)), monkeypatch)
    result = CliRunner().invoke(
        app, ["build", str(BLOG), "-o", str(tmp_path / "out"), "--verify", "--json"]
    )
    assert result.exit_code == code, result.output
    document = json.loads(result.stdout)
    assert document["command"] == "build" and document["ok"] is (code == 0)
    assert document["written"] and document["verify"]["bundle"] == str(tmp_path / "out")
    assert [c["status"] for c in document["verify"]["checks"]] == [status.value]
