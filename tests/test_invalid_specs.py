"""Every spec under tests/invalid/ fails `hacompile validate` with exactly the lines in its
.expected file (FILE:LINE:COL: error: path: message), exit status 2 and no traceback.

To add a case: write NAME.yaml, run `hacompile validate NAME.yaml 2> NAME.expected` inside
tests/invalid/, and read the result as a user would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

CASES = sorted((Path(__file__).parent / "invalid").glob("*.yaml"))


@pytest.mark.parametrize("spec", CASES, ids=[c.stem for c in CASES])
def test_invalid_spec_reports_expected_errors(spec: Path) -> None:
    result = run_cli("validate", spec.name, cwd=spec.parent)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    expected = spec.with_suffix(".expected").read_text()
    assert result.stderr == expected


def test_there_are_cases_for_each_rule_family() -> None:
    assert len(CASES) >= 10
