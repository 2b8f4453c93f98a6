"""`hacompile verify` passes on the bundle of every blueprint, with every checker available.

The three runs are started together (they are mostly waiting on subprocesses) and then checked
one test per blueprint. The blog blueprint goes through `hacompile build --verify`, the others
through `hacompile build` then `hacompile verify DIR`, so both entry points are exercised.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hacompile.verify.base import Unavailable
from hacompile.verify.runner import CHECKERS
from hacompile.verify.tfreal import find_terraform

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml"))

pytestmark = [pytest.mark.root, pytest.mark.tools]  # every checker, with its real tool
TIMEOUT = 600


def _terraform_ok() -> bool:
    try:
        find_terraform()
    except Unavailable:
        return False
    return True


# No registry serves terraform, so .ci/install-verify.sh cannot install it: without a
# terraform >= 1.6 on PATH, `terraform-real` may (and must) say "not available".
MAY_BE_MISSING = set() if _terraform_ok() else {"terraform-real"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hacompile", *args]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str]]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    procs: dict[str, subprocess.Popen[str]] = {}
    try:
        for spec in BLUEPRINTS:
            out = tmp_path_factory.mktemp(spec.stem) / "out"
            if spec.stem == "blog-aws-keepalived":
                argv = _cli("build", str(spec), "-o", str(out), "--verify")
            else:
                subprocess.run(
                    _cli("build", str(spec), "-o", str(out)),
                    env=env,
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
                argv = _cli("verify", str(out))
            procs[spec.stem] = subprocess.Popen(
                argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        results = {}
        for name, proc in procs.items():
            output, _ = proc.communicate(timeout=TIMEOUT)
            results[name] = (proc.returncode, output)
        yield results
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.mark.parametrize("blueprint", [p.stem for p in BLUEPRINTS])
def test_verify_passes_on_blueprint(runs: dict[str, tuple[int, str]], blueprint: str) -> None:
    code, output = runs[blueprint]
    lines = {
        line.split()[0]: line
        for line in output.splitlines()
        if line and not line.startswith(" ") and line.split()[0] in CHECKERS
    }
    assert set(lines) == set(CHECKERS), output
    missing = [
        name
        for name, line in lines.items()
        if name in MAY_BE_MISSING and " not available: " in line
    ]
    not_passed = [
        line for name, line in lines.items() if line.split()[1] != "passed" and name not in missing
    ]
    assert not not_passed, output
    assert code == 0, output
    assert (
        f"{len(CHECKERS) - len(missing)} passed, 0 failed, {len(missing)} not available" in output
    )
