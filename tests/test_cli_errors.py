"""The CLI's one error path (`reports_errors`), and every command's --json and --quiet.

In-process (typer's CliRunner): nothing here depends on the real entry point or a terminal.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import hacompile.lab.main
import hacompile.lab.prereqs
from hacompile.cli import app
from hacompile.lab.main import LabRun
from tests.conftest import ROOT

CLI = ROOT / "hacompile" / "cli"


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("module", ["spec_commands.py", "status_command.py", "tool_commands.py"])
def test_commands_import_only_public_names(module: str) -> None:
    tree = ast.parse((CLI / module).read_text(encoding="utf-8"))
    private = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hacompile")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []


def test_every_command_honours_json_and_quiet() -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    lacking = {
        name: sorted({"--json", "--quiet"} - {o for p in command.params for o in p.opts})
        for name, command in commands.items()
    }
    assert {name: missing for name, missing in lacking.items() if missing} == {}


@pytest.fixture
def lab_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's prerequisites met (no root needed: nothing is stood up in these tests)."""
    monkeypatch.setattr(
        hacompile.lab.prereqs,
        "check_prerequisites",
        lambda **_: hacompile.lab.prereqs.Prerequisites(),
    )


@pytest.fixture
def bad_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "bad.yaml"
    spec.write_text("version: 2\n")
    return spec


@pytest.mark.usefixtures("lab_ready")
def test_lab_spec_error_is_printed_like_every_command(bad_spec: Path) -> None:
    lab, validate = _invoke("lab", str(bad_spec)), _invoke("validate", str(bad_spec))
    assert lab.exit_code == validate.exit_code == 2
    assert lab.stderr == validate.stderr
    assert lab.stderr.startswith(f"{bad_spec}:1:")


@pytest.mark.usefixtures("lab_ready")
def test_lab_spec_error_under_json_is_one_document(bad_spec: Path) -> None:
    result = _invoke("lab", str(bad_spec), "--json")
    assert result.exit_code == 2 and result.stderr == ""
    document = json.loads(result.stdout)
    assert document["command"] == "lab" and document["ok"] is False
    assert document["diagnostics"][0]["file"] == str(bad_spec)


@pytest.mark.usefixtures("lab_ready")
def test_lab_usage_error_under_json_is_one_document() -> None:
    result = _invoke("lab", "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert (document["ok"], document["error"]) == (False, "SPEC is required (or --cleanup)")


def _fake_run(monkeypatch: pytest.MonkeyPatch) -> LabRun:
    run = LabRun("ha.yaml", "us-east-1", deploy={"passed": True}, hosts="booted", total_s=3.0)
    monkeypatch.setattr(hacompile.lab.main, "run_lab", lambda *_, **__: run)
    return run


@pytest.mark.usefixtures("lab_ready")
def test_lab_results_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run = _fake_run(monkeypatch)
    results = tmp_path / "results.json"
    result = _invoke(
        "lab", str(ROOT / "blueprints" / "blog-aws-keepalived.yaml"), "--results", str(results)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(results.read_text(encoding="utf-8")) == run.as_json()
    assert f"results written to {results}" in result.stdout
    assert result.stdout.endswith("PASS (3s)\n")


@pytest.mark.usefixtures("lab_ready")
def test_lab_json_is_one_document_on_stdout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = _fake_run(monkeypatch)
    result = _invoke("lab", str(ROOT / "blueprints" / "blog-aws-keepalived.yaml"), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["command"] == "lab" and document["ok"] is True
    assert {k: document[k] for k in run.as_json()} == run.as_json()
    assert list(tmp_path.iterdir()) == []  # --json writes no file


@pytest.mark.usefixtures("lab_ready")
def test_lab_quiet_prints_the_table_and_the_verdict_only(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_run(monkeypatch)
    result = _invoke("lab", str(ROOT / "blueprints" / "blog-aws-keepalived.yaml"), "-q")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("scenario ")
    assert result.stdout.splitlines()[-1] == "PASS (3s)"
