"""What a booted-host deploy reports: the two play runs, the post-deploy checks, host sizes.

Why host sizes: a rehearsal that needs a gigabyte per host would not run on a CI machine or a
laptop; memory (the host's cgroup) and disk (its overlay) are measured after the deploy.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hacompile.lab.booted.lab import BootedLab


def _memory_mib(lab: BootedLab, key: str) -> float | None:
    """Resident memory of everything running in the host (sum of its processes' RSS)."""
    machine = lab.machines[key]
    total = 0
    for pid in [machine.init_pid, *machine.pids()]:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1) if total else None


def _disk_mib(path: Path) -> float:
    """What the host wrote to its disk (the overlay's upper directory)."""
    out = subprocess.run(
        ["du", "-sk", str(path)], capture_output=True, text=True, timeout=60, check=False
    ).stdout.split()
    return round(int(out[0]) / 1024, 1) if out else 0.0


def _claims(lab: BootedLab) -> dict[str, list[str]]:
    """Per EIP, the LBs whose AssociateAddress calls got through during the deploy, in order:
    one entry per EIP (its owner) when the first elections went to the owners."""
    from hacompile.lab.observe import cloud_call

    eni_lb = {v["eni_id"]: k for k, v in lab.ids["enis"].items()}
    alloc_eip = {v["allocation_id"]: k for k, v in lab.ids["eips"].items()}
    calls = cloud_call(lab.dir / "cloud.sock", {"op": "calls"})["calls"]
    out: dict[str, list[str]] = {eip: [] for eip in alloc_eip.values()}
    for call in calls:
        if call["action"] == "AssociateAddress" and not call["failed"]:
            out[alloc_eip.get(call["alloc"], "?")].append(eni_lb.get(call["eni"], "?"))
    return out


def deploy_report(lab: BootedLab) -> dict[str, Any]:
    assert lab.deployment is not None
    checks = [{"check": r.name, "ok": r.ok, "detail": r.detail} for r in lab.checks]
    hosts = {
        key: {"memory_mib": _memory_mib(lab, key), "disk_mib": _disk_mib(m.upper)}
        for key, m in lab.machines.items()
    }
    return {
        "passed": all(r.ok for r in lab.checks),
        **lab.deployment.as_json(),
        "checks": checks,
        "checks_s": round(lab.checks_s, 1),
        "hosts": hosts,
        "claims": _claims(lab),
        "image": str(lab.machines[next(iter(lab.machines))].image),
        "cpus": os.cpu_count(),
    }


def deploy_lines(report: dict[str, Any]) -> list[str]:
    out = []
    for name in ("converge", "idempotence"):
        run = report[name]
        changed = sum(r["changed"] for r in run["recap"].values())
        out.append(f"{name}: {run['seconds']:.1f}s, {len(run['recap'])} hosts, changed={changed}")
    out.append(
        "EIP claims during the deploy: "
        + ", ".join(
            f"{eip} by {' then '.join(lbs) or 'nobody'}" for eip, lbs in report["claims"].items()
        )
    )
    bad = [c for c in report["checks"] if not c["ok"]]
    out.append(
        f"post-deploy checks: {len(report['checks']) - len(bad)} passed, {len(bad)} "
        f"failed (settled after {report['checks_s']}s)"
    )
    out.extend(f"  FAILED {c['check']}: {c['detail']}" for c in bad)
    for key, size in report["hosts"].items():
        out.append(f"  {key}: {size['memory_mib']} MiB memory, {size['disk_mib']} MiB disk")
    return out
