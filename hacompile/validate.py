"""Stage 2, validate: plain data → frozen `Spec`, with every problem located at once.

Two layers: shape (pydantic), then the cross-field rules. The failover proof needs the plan's
priorities, so it is a stage of its own after the plan (`hacompile.failover.prove`); its
findings are located through the same spec paths (``keepalived.checks[2].weight``).
"""

from __future__ import annotations

from pydantic import ValidationError

from hacompile.errors import Diagnostic, Severity, SpecError
from hacompile.load import Loaded
from hacompile.record import Record
from hacompile.spec import rules
from hacompile.spec.locate import diagnostics_from
from hacompile.spec.model import Spec


class Validated(Record):
    spec: Spec
    warnings: tuple[Diagnostic, ...]
    file: str


def validate(loaded: Loaded) -> Validated:
    """Shape first (pydantic), then the cross-field rules; raise `SpecError` on any error."""
    file = str(loaded.path)
    if not isinstance(loaded.data, dict):
        kind = "a list" if isinstance(loaded.data, list) else f"a {type(loaded.data).__name__}"
        raise SpecError(
            (
                Diagnostic(
                    1,
                    1,
                    Severity.ERROR,
                    "",
                    f"the spec must be a mapping (version, name, regions, ...), got {kind}",
                    file,
                ),
            )
        )
    try:
        spec = Spec.model_validate(loaded.data)
    except ValidationError as exc:
        raise SpecError(diagnostics_from(exc, loaded.data, loaded.positions, Spec, file)) from None
    found = rules.check(spec, loaded.positions, file)
    errors = [d for d in found if d.severity is Severity.ERROR]
    if errors:
        raise SpecError(found)
    return Validated(spec, found, file)
