"""Run every checker of `hacompile verify` over a bundle directory.

Why a registry of plain functions: each checker needs a different external tool, so each is
run in isolation; a missing tool makes that one checker "not available" (never a silent pass),
and a checker that crashes is reported as failed with the exception, so one broken tool cannot
hide the others' results. Checker modules are imported lazily: a machine without node or
Ansible can still run the rest.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from hacompile.verify.base import CheckResult, Context, Outcome, Status, Unavailable

__all__ = ["CHECKERS", "Checker", "run_checks"]

Checker = Callable[[Context], Outcome]

# name -> "module:function"; the order is the order of the report.
CHECKERS: dict[str, str] = {
    "terraform": "hacompile.verify.terraform:check_schema",
    "terraform-fmt": "hacompile.verify.terraform:check_fmt",
    "terraform-real": "hacompile.verify.tfreal:check_terraform_real",
    "checkov": "hacompile.verify.terraform:check_checkov",
    "trivy": "hacompile.verify.trivy:check_trivy",
    "iam": "hacompile.verify.iam:check_iam",
    "ansible-syntax": "hacompile.verify.ansible_checks:check_syntax",
    "ansible-lint": "hacompile.verify.ansible_checks:check_lint",
    "yamllint": "hacompile.verify.ansible_checks:check_yamllint",
    "keepalived": "hacompile.verify.configs:check_keepalived",
    "haproxy": "hacompile.verify.configs:check_haproxy",
    "shellcheck": "hacompile.verify.configs:check_shellcheck",
    "eip-scripts": "hacompile.verify.eipcheck:check_eip_scripts",
}


def _load(target: str) -> Checker:
    module, _, func = target.partition(":")
    checker: Checker = getattr(importlib.import_module(module), func)
    return checker


def run_one(name: str, ctx: Context) -> CheckResult:
    start = time.monotonic()
    try:
        outcome = _load(CHECKERS[name])(ctx)
    except Unavailable as exc:
        return CheckResult(name, Status.UNAVAILABLE, (), str(exc), time.monotonic() - start)
    except Exception as exc:  # a crashing checker must not hide the others
        detail = f"checker crashed: {type(exc).__name__}: {exc}"
        return CheckResult(name, Status.FAILED, (detail,), "", time.monotonic() - start)
    status = Status.FAILED if outcome.findings else Status.PASSED
    return CheckResult(name, status, outcome.findings, outcome.summary, time.monotonic() - start)


def run_checks(
    bundle: Path,
    only: Iterable[str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
) -> tuple[CheckResult, ...]:
    """Run the named checkers (all by default) in report order over `bundle`.

    `on_result` is called after each checker, so the CLI can print lines as they come.
    Raises KeyError for an unknown checker name.
    """
    names = list(CHECKERS) if only is None else list(only)
    for name in names:
        if name not in CHECKERS:
            raise KeyError(name)
    results = []
    workdir = Path(tempfile.mkdtemp(prefix="hacompile-verify-"))
    try:
        ctx = Context(bundle.resolve(), workdir)
        for name in names:
            result = run_one(name, ctx)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return tuple(results)
