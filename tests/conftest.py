"""Shared fixtures: paths to the repository's blueprints and helpers to run the CLI: `run_cli`
as a subprocess (the real entry point), `invoke_cli` in-process where a subprocess proves
nothing more."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m hacompile ARGS` as a user would, capturing output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "hacompile", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def invoke_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`run_cli` in-process, through typer's CliRunner: the same result (exit status, stdout,
    stderr, piped so no colour, stdin not a terminal), without ~0.3 s of interpreter start-up a
    case. An exception that escaped the CLI is raised here, where a subprocess would print its
    traceback. `env` is set in os.environ for the call only: enough for variables hacompile
    reads when a command runs (PATH, HACOMPILE_TOOLS_DIR), not for any read at import."""
    from typer.testing import CliRunner

    from hacompile.cli import app

    before = os.getcwd()
    os.chdir(cwd or ROOT)
    try:
        runner = CliRunner(env={"NO_COLOR": "1", **(env or {})})
        result = runner.invoke(app, list(args), prog_name="hacompile")
    finally:
        os.chdir(before)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["hacompile", *args], result.exit_code, result.stdout, result.stderr
    )
