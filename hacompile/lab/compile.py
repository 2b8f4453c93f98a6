"""Compile the spec for the lab: the same pipeline as `hacompile build`, with the lab's options.

Why an override: `vrrp_track_process` cannot work inside a network namespace (the kernel's
process-event connector answers only in the root namespace; keepalived logs errno 111), so the
lab selects the spec option `keepalived.process_checks: script` and says so. It is set through
the pipeline's `Options` before validation, so the rules and the proof check the spec the lab
actually runs, and every stage still runs once. Nothing else in the spec changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hacompile.errors import Loc
from hacompile.pipeline import Options, Override, compile_spec
from hacompile.plan.model import Plan
from hacompile.spec.model import KeepalivedSpec, Spec
from hacompile.write import write

LAB_OPTIONS = Options(overrides=(Override(("keepalived", "process_checks"), "script"),))
WHY: dict[Loc, str] = {
    ("keepalived", "process_checks"): "vrrp_track_process needs the kernel's process "
    "connector, which a network namespace lacks",
}


@dataclass(frozen=True)
class LabBuild:
    plan: Plan
    bundle_dir: Path
    notes: tuple[str, ...]
    spec: Spec | None = None  # the validated spec (as compiled, with the lab's options)


def compile_for_lab(spec_path: Path, out: Path) -> LabBuild:
    compiled = compile_spec(spec_path, LAB_OPTIONS)
    notes = []
    for change in compiled.checked.overridden:
        before = change.before
        if before is None:  # unset in the spec: its default
            before = KeepalivedSpec.model_fields[str(change.loc[-1])].default
        if before != change.after:
            notes.append(
                f"{'.'.join(map(str, change.loc))}: {before} -> {change.after}: {WHY[change.loc]}"
            )
    write(compiled.bundle, out)
    return LabBuild(compiled.plan, out, tuple(notes), compiled.checked.spec)


def region_index(plan: Plan, region: str | None) -> int:
    if region is None:
        return 0
    names = [r.name for r in plan.regions]
    if region not in names:
        raise ValueError(f"region {region!r} not in the spec ({', '.join(names)})")
    return names.index(region)
