"""`hacompile verify` passes on the bundle of every blueprint, with every checker available.

At most three runs go at once, then each is checked by one test per blueprint. All ten at once
on 2 cores (issue 17's first CI run) stretched every check's wall clock several times over:
the eip-scripts claim spent its whole retry budget, and the blog's run came within 30 s of
its timeout on a slow machine. The blog blueprint goes through `hacompile build --verify`, the
others through `hacompile build` then `hacompile verify DIR`, so both entry points are
exercised.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


AT_ONCE = 3


def _argv(spec: Path, out: Path, env: dict[str, str]) -> list[str]:
    """The blog through `build --verify`; the others built, then `verify DIR`."""
    if spec.stem == "blog-aws-keepalived":
        return _cli("build", str(spec), "-o", str(out), "--verify")
    subprocess.run(
        _cli("build", str(spec), "-o", str(out)),
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return _cli("verify", str(out))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str]]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    pending = list(BLUEPRINTS)
    running: dict[str, tuple[subprocess.Popen[str], Path, float]] = {}
    results: dict[str, tuple[int, str]] = {}
    try:
        while pending or running:  # bounded: every run has TIMEOUT seconds from its start
            while pending and len(running) < AT_ONCE:
                spec = pending.pop(0)
                base = tmp_path_factory.mktemp(spec.stem)
                argv = _argv(spec, base / "out", env)
                log = base / "verify.log"
                with log.open("w", encoding="utf-8") as sink:  # a file: no pipe to fill
                    proc = subprocess.Popen(
                        argv, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True
                    )
                running[spec.stem] = (proc, log, time.monotonic())
            for name, (proc, log, started) in list(running.items()):
                if proc.poll() is None:
                    if time.monotonic() - started > TIMEOUT:
                        raise TimeoutError(f"verify on {name} ran over {TIMEOUT} s")
                    continue
                results[name] = (proc.returncode, log.read_text(encoding="utf-8"))
                del running[name]
            time.sleep(0.5)
        yield results
    finally:
        for proc, _, _ in running.values():
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
