"""The pipeline in one place: load → validate → plan → render (→ write, done by the caller).

Each stage takes and returns frozen values; any stage may raise `SpecError`. Only the CLI
prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hacompile.errors import Diagnostic
from hacompile.load import load
from hacompile.plan.build import build_plan
from hacompile.plan.model import Plan
from hacompile.render.bundle import Bundle, render
from hacompile.validate import Validated, validate


@dataclass(frozen=True)
class Compiled:
    validated: Validated
    plan: Plan
    bundle: Bundle

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return self.validated.warnings


def check(spec_path: Path) -> Validated:
    return validate(load(spec_path))


def compile_spec(spec_path: Path) -> Compiled:
    validated = check(spec_path)
    plan = build_plan(validated.spec, spec_path.name)
    return Compiled(validated, plan, render(plan))
