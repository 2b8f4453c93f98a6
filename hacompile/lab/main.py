"""`hacompile lab` as a function: build, stand up, run the matrix, always tear down.

Why here and not in cli.py: the CLI only prints and exits; the benchmark and the tests call
`run_lab` directly with their own `say`. What must be installed first is checked before any
of this by hacompile.lab.prereqs.
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hacompile.lab import byo, netns
from hacompile.lab.booted.day2 import PROCEDURES, run_procedure
from hacompile.lab.booted.lab import BootedLab
from hacompile.lab.booted.machine import unmount_leftovers
from hacompile.lab.booted.report import deploy_lines, deploy_report
from hacompile.lab.compile import compile_for_lab, region_index
from hacompile.lab.runner import run_scenario
from hacompile.lab.scenarios import select
from hacompile.lab.setup import Lab
from hacompile.lab.topology import LAB_ROOT, PREFIX_RE, new_prefix


@dataclass
class LabRun:
    spec: str
    region: str
    substitutions: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    setup_s: float = 0.0
    total_s: float = 0.0
    hosts: str = "netns"  # netns | booted
    deploy: dict[str, Any] | None = None  # booted: converge, idempotence, post-deploy checks
    network: dict[str, Any] | None = None  # bring your own network: hacompile.lab.byo.summary
    procedures: list[dict[str, Any]] = field(default_factory=list)  # booted: day-2 procedures

    @property
    def passed(self) -> bool:
        deployed = self.deploy is None or bool(self.deploy["passed"])
        networked = self.network is None or not self.network["problems"]
        return (
            deployed
            and networked
            and (bool(self.results) or self.deploy is not None)
            and all(r["passed"] for r in self.results)
            and all(r["passed"] for r in self.procedures)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "region": self.region,
            "hosts": self.hosts,
            "passed": self.passed,
            "substitutions": self.substitutions,
            "setup_s": round(self.setup_s, 1),
            "total_s": round(self.total_s, 1),
            "deploy": self.deploy,
            "network": self.network,
            "results": self.results,
            "procedures": self.procedures,
        }

    def save(self, path: Path) -> None:
        """Write `as_json` to `path` (`hacompile lab --results FILE`): here, not in the CLI,
        which only prints and exits."""
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")

    def write_report(self, path: Path) -> None:
        """Write the HTML report of the results to `path` (`hacompile lab --report FILE`):
        hacompile.lab.htmlreport renders, this writes (the CLI writes no file itself)."""
        from hacompile.lab.htmlreport import render

        title = f"hacompile lab: {self.spec} ({self.region}, {self.hosts})"
        path.write_text(render(self.results, title=title), encoding="utf-8")


def run_lab(
    spec: Path,
    *,
    region: str | None = None,
    scenarios: list[str] | None = None,
    repeat: int = 1,
    say: Callable[[str], None] = lambda _: None,
    prefix: str | None = None,
    booted: bool = False,
    claim_env: Mapping[str, str] | None = None,
    procedures: list[str] | None = None,
) -> LabRun:
    """Build SPEC, stand one region up under `prefix` (default: a fresh one), run the chosen
    scenarios `repeat` times; the lab is torn down before this returns or raises.

    `booted`: every LB (and demo backend) is a booted host that the bundle's own playbook
    deploys over SSH (converge, idempotence run, post-deploy checks) before the scenarios;
    `scenarios=[]` then stops after the deploy. `claim_env`: extra environment of every EIP
    claim (the benchmark's baseline: HACOMPILE_EIP_SIGNED=off). `procedures` (booted only):
    day-2 procedures run after the scenarios, in this order (hacompile.lab.booted.day2)."""
    unknown = sorted(set(procedures or []) - set(PROCEDURES))
    if unknown or (procedures and not booted):
        raise ValueError(
            f"procedures {unknown} unknown (known: {', '.join(PROCEDURES)})"
            if unknown
            else "day-2 procedures run on booted hosts only"
        )
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="hacompile-lab-bundle-"))
    previous = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM tears down like Ctrl-C: the Lab context manager removes everything.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        build = compile_for_lab(spec, work / "bundle")
        index = region_index(build.plan, region)
        lbs = len(build.plan.regions[index].load_balancers)
        chosen = [] if scenarios == [] else select(scenarios, lbs, booted=booted)
        name = build.plan.regions[index].name
        run = LabRun(
            str(spec),
            name,
            [*build.notes, *byo.ignored(build.spec)] if build.spec else list(build.notes),
            hosts="booted" if booted else "netns",
        )
        kind = BootedLab if booted else Lab
        ex = byo.existing(build.spec, name) if build.spec else None
        own = byo.Byo(spec, ex, work / "byo") if ex else None
        with kind(
            build.plan,
            build.bundle_dir,
            index,
            prefix=prefix or new_prefix(),
            byo=own,
            claim_env=dict(claim_env or {}),
        ) as lab:
            run.substitutions.extend(lab.substitutions)
            for line in run.substitutions:
                say(f"substitution: {line}")
            run.setup_s = time.monotonic() - started
            say(
                f"lab {lab.prefix} up in {run.setup_s:.1f}s: {len(lab.topo.lbs)} LBs, "
                f"{len(lab.topo.backends)} backends, EIPs at "
                f"{', '.join(e.address for e in lab.topo.eips)}"
            )
            if isinstance(lab, BootedLab):
                run.deploy = deploy_report(lab)
                for line in deploy_lines(run.deploy):
                    say(line)
            obs = lab.observer()
            for rep in range(repeat):
                for scenario in chosen:
                    say(f"scenario {scenario.name} ({rep + 1}/{repeat})")
                    result = run_scenario(lab, obs, scenario, say)
                    result["repetition"] = rep + 1
                    run.results.append(result)
            if isinstance(lab, BootedLab):
                for name in procedures or []:
                    done = run_procedure(lab, obs, name, spec, say)
                    run.procedures.append(done)
                    say(f"  {name}: {'passed' if done['passed'] else done['problems']}")
            run.network = lab.network_report()  # afterwards: still only the existing VPC
            if run.network:
                say(f"existing network: {run.network['problems'] or 'as it should be'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    run.total_s = time.monotonic() - started
    return run


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cleanup() -> list[str]:
    """Remove what crashed runs left: their namespaces (and processes, booted hosts included),
    the booted hosts' overlay mounts and cgroups, and the run directories."""
    removed = netns.destroy(None)
    removed += unmount_leftovers()
    if LAB_ROOT.is_dir():
        for entry in LAB_ROOT.iterdir():
            if PREFIX_RE.match(entry.name):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(str(entry))
    return removed
