"""The pipeline in one place: load → validate → plan → render (→ write, done by the caller).

Each stage takes and returns frozen values; any stage may raise `SpecError`. Only the CLI
prints or exits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from hacompile.errors import Diagnostic
from hacompile.failover import Report, analyse
from hacompile.failover.proof import located
from hacompile.load import load
from hacompile.plan.build import build_plan
from hacompile.plan.model import Plan
from hacompile.validate import Validated, validate, validate_rules

if TYPE_CHECKING:  # rendering (Jinja) is imported by compile_spec only: `validate` never pays it
    from hacompile.render.bundle import Bundle


class Compiled(NamedTuple):
    validated: Validated
    plan: Plan
    bundle: Bundle

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return self.validated.warnings


class Explained(NamedTuple):
    """The failover analysis of a spec that passed the rules (it may fail the proof)."""

    plan: Plan
    report: Report
    diagnostics: tuple[Diagnostic, ...]  # rule warnings and the proof's findings, located


def explain(spec_path: Path) -> Explained:
    loaded = load(spec_path)
    validated = validate_rules(loaded)
    plan = build_plan(validated.spec, spec_path.name)
    report = analyse(plan)
    found = located(report.findings, loaded.positions, validated.file)
    return Explained(plan, report, tuple(sorted((*validated.warnings, *found))))


def check(spec_path: Path) -> Validated:
    return validate(load(spec_path))


def compile_spec(spec_path: Path) -> Compiled:
    from hacompile.render.bundle import render

    validated = check(spec_path)
    plan = build_plan(validated.spec, spec_path.name)
    return Compiled(validated, plan, render(plan))
