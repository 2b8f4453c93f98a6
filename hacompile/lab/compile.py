"""Compile the spec for the lab: the same pipeline as `hacompile build`, with the lab's options.

Why an override: `vrrp_track_process` cannot work inside a network namespace (the kernel's
process-event connector answers only in the root namespace; keepalived logs errno 111), so the
lab selects the spec option `keepalived.process_checks: script` and says so. Nothing else in the
spec changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hacompile.pipeline import check
from hacompile.plan.build import build_plan
from hacompile.plan.model import Plan
from hacompile.render.bundle import render
from hacompile.write import write


@dataclass(frozen=True)
class LabBuild:
    plan: Plan
    bundle_dir: Path
    notes: tuple[str, ...]


def compile_for_lab(spec_path: Path, out: Path) -> LabBuild:
    validated = check(spec_path)
    spec, notes = validated.spec, []
    if spec.keepalived.process_checks != "script":
        keepalived = spec.keepalived.model_copy(update={"process_checks": "script"})
        spec = spec.model_copy(update={"keepalived": keepalived})
        notes.append("keepalived.process_checks: track_process -> script: vrrp_track_process "
                     "needs the kernel's process connector, which a network namespace lacks")
    plan = build_plan(spec, spec_path.name)
    write(render(plan), out)
    return LabBuild(plan, out, tuple(notes))


def region_index(plan: Plan, region: str | None) -> int:
    if region is None:
        return 0
    names = [r.name for r in plan.regions]
    if region not in names:
        raise ValueError(f"region {region!r} not in the spec ({', '.join(names)})")
    return names.index(region)
