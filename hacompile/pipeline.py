"""The pipeline in one place: load → validate → plan → prove → render (→ write, by the caller).

Each stage runs once per command and hands frozen values downhill: `validate` returns the
spec, the plan is built once from it, `prove` analyses that plan once and its report goes on
to the README (render) and to `explain`. Any stage may raise `SpecError`. Only the CLI prints
or exits. `Options` is how a caller such as the lab changes the spec: its overrides are set in
the loaded data before validation, so the shape checks and rules see the spec actually built.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hacompile.errors import Diagnostic, Loc
from hacompile.failover import ProofFailed, Report, prove
from hacompile.load import Loaded, load
from hacompile.plan.build import build_plan
from hacompile.plan.model import Plan
from hacompile.record import Record
from hacompile.spec.model import Spec
from hacompile.validate import Validated, validate

if TYPE_CHECKING:  # rendering (Jinja) is imported by compile_spec only: `validate` never pays it
    from hacompile.render.bundle import Bundle


class Override(Record):
    """One spec value a caller sets, at a spec path such as ("keepalived", "process_checks")."""

    loc: Loc
    value: Any


class Overridden(Record):
    """An override that changed the spec: `before` is None when the spec left it unset."""

    loc: Loc
    before: Any
    after: Any


class Options(Record):
    overrides: tuple[Override, ...] = ()


DEFAULT = Options()


class Checked(Record):
    """A spec that passed shape, rules and the proof, with its one plan and proof report."""

    validated: Validated
    plan: Plan
    report: Report
    warnings: tuple[Diagnostic, ...]  # the rules' and the proof's, located
    overridden: tuple[Overridden, ...] = ()

    @property
    def spec(self) -> Spec:
        return self.validated.spec


class Compiled(Record):
    checked: Checked
    bundle: Bundle

    @property
    def plan(self) -> Plan:
        return self.checked.plan

    @property
    def report(self) -> Report:
        return self.checked.report

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return self.checked.warnings


class Explained(Record):
    """The failover analysis of a spec that passed the rules (it may fail the proof)."""

    plan: Plan
    report: Report
    diagnostics: tuple[Diagnostic, ...]  # rule warnings and the proof's findings, located


def _overridden(loaded: Loaded, options: Options) -> tuple[Loaded, tuple[Overridden, ...]]:
    """Set the options' values in a copy of the loaded data; which of them changed it."""
    if not options.overrides or not isinstance(loaded.data, dict):
        return loaded, ()
    data = copy.deepcopy(loaded.data)
    changed = []
    for loc, value in options.overrides:
        node: Any = data
        for key in loc[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        before = node.get(loc[-1])
        if before != value:
            changed.append(Overridden(loc, before, value))
        node[loc[-1]] = value
    return loaded._replace(data=data), tuple(changed)


def _checked(spec_path: Path, options: Options, *, proof_errors: bool, bundle: bool) -> Checked:
    loaded, changed = _overridden(load(spec_path), options)
    validated = validate(loaded)
    plan = build_plan(validated.spec, spec_path.name, digest=bundle)
    try:
        proven = prove(plan, loaded.positions, validated.file)
    except ProofFailed as exc:
        if proof_errors:
            raise ProofFailed((*validated.warnings, *exc.diagnostics), exc.report) from None
        return Checked(
            validated,
            plan,
            exc.report,
            tuple(sorted((*validated.warnings, *exc.diagnostics))),
            changed,
        )
    return Checked(
        validated,
        plan,
        proven.report,
        tuple(sorted((*validated.warnings, *proven.diagnostics))),
        changed,
    )


def check(spec_path: Path, options: Options = DEFAULT) -> Checked:
    """Load, validate, plan and prove; raise `SpecError` on any error, the proof's included.
    The plan has no `spec_digest`: only the bundle's manifest needs it (`compile_spec`)."""
    return _checked(spec_path, options, proof_errors=True, bundle=False)


def explain(spec_path: Path, options: Options = DEFAULT) -> Explained:
    """Like `check`, but a failed proof is returned (its errors among the diagnostics), not
    raised, so `hacompile explain` can show the scenario table that failed."""
    checked = _checked(spec_path, options, proof_errors=False, bundle=False)
    return Explained(checked.plan, checked.report, checked.warnings)


def compile_spec(spec_path: Path, options: Options = DEFAULT) -> Compiled:
    """`check`, then render the plan and the proof's report into the in-memory bundle."""
    from hacompile.render.bundle import render

    checked = _checked(spec_path, options, proof_errors=True, bundle=True)
    return Compiled(checked, render(checked.plan, checked.report))


__all__ = [
    "Checked",
    "Compiled",
    "Explained",
    "Options",
    "Overridden",
    "Override",
    "check",
    "compile_spec",
    "explain",
]
