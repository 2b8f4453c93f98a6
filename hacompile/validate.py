"""Stage 2, validate: plain data → frozen `Spec`, with every problem located at once.

Three layers: shape (pydantic), cross-field rules, then the failover proof, which needs the
plan's priorities and so runs on a plan built from the valid spec; its findings are located
through the same spec paths (``keepalived.checks[2].weight``) as every other diagnostic.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import ValidationError

from hacompile.errors import Diagnostic, Severity, SpecError
from hacompile.failover import analyse
from hacompile.failover.proof import located
from hacompile.load import Loaded
from hacompile.plan.build import build_plan
from hacompile.spec import rules
from hacompile.spec.locate import diagnostics_from
from hacompile.spec.model import Spec


class Validated(NamedTuple):
    spec: Spec
    warnings: tuple[Diagnostic, ...]
    file: str


def validate(loaded: Loaded) -> Validated:
    """Shape, rules, then the failover proof; raise `SpecError` on any error."""
    validated = validate_rules(loaded)
    plan = build_plan(validated.spec, loaded.path.name)
    proof = located(analyse(plan).findings, loaded.positions, validated.file)
    found = tuple(sorted((*validated.warnings, *proof)))
    if any(d.severity is Severity.ERROR for d in proof):
        raise SpecError(found)
    return validated._replace(warnings=found)


def validate_rules(loaded: Loaded) -> Validated:
    """Shape first (pydantic), then the cross-field rules; raise `SpecError` on any error.
    `hacompile explain` stops here so it can show the scenario table of a spec that fails
    the proof."""
    file = str(loaded.path)
    if not isinstance(loaded.data, dict):
        kind = "a list" if isinstance(loaded.data, list) else f"a {type(loaded.data).__name__}"
        raise SpecError((Diagnostic(1, 1, Severity.ERROR, "", f"the spec must be a mapping "
                                    f"(version, name, regions, ...), got {kind}", file),))
    try:
        spec = Spec.model_validate(loaded.data)
    except ValidationError as exc:
        raise SpecError(diagnostics_from(exc, loaded.data, loaded.positions, Spec, file)) from None
    found = rules.check(spec, loaded.positions, file)
    errors = [d for d in found if d.severity is Severity.ERROR]
    if errors:
        raise SpecError(found)
    return Validated(spec, found, file)
