"""`hacompile status` in the booted lab: as an operator runs it, at rest, against an EIP moved
behind Keepalived's back, and after the owner's reconcile timer took it home.

Why apart from hacompile.lab.booted.day2: the status command is the one procedure that reads
the cloud rather than changing the hosts; it shares only the traffic count and the waits.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hacompile.lab.netns import LabError
from hacompile.lab.observe import Observer
from hacompile.standins.moto import aws_env

if TYPE_CHECKING:
    from hacompile.lab.booted.lab import BootedLab
    from hacompile.lab.booted.machine import BootedHost

RECONCILE_SERVICE = "hacompile-eip-reconcile.service"
RECONCILE_TIMER = "hacompile-eip-reconcile.timer"


def status(lab: BootedLab, spec: Path) -> tuple[int, dict[str, Any]]:
    """`hacompile status SPEC --json` as an operator runs it, from the controller namespace
    with the operator's credentials (the lab's moto behind the fault proxy)."""
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(lab.dir / "controller"),
        "LANG": "C.UTF-8",
        **aws_env(lab.topo.api_url, lab.topo.region),
    }
    cmd = [sys.executable, "-m", "hacompile", "status", str(spec), "--json"]
    cmd += ["--region", lab.topo.region]
    proc = subprocess.run(
        ["ip", "netns", "exec", lab.topo.ns("ctl"), *cmd],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        document: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        document = {"unparsed": (proc.stdout + proc.stderr)[-2000:]}
    return proc.returncode, document


def status_drift(lab: BootedLab, obs: Observer, spec: Path) -> dict[str, Any]:
    """`status` says the tier is as planned; eip1 is then moved to the second LB behind
    Keepalived's back (an operator's slip in the console): `status` must report that drift
    (exit 1, naming the EIP and both nodes), the owner's reconcile timer must take the EIP
    home, and `status` must be clean again. No request fails: both nodes serve. The owner's
    timer is paused from just before the move until the report is in, then started again."""
    from hacompile.lab.booted import day2

    problems: list[str] = []
    rc, before = status(lab, spec)
    if rc != 0:
        problems.append(f"status at rest exited {rc}: {json.dumps(before)[:600]}")
    eip, lbs = lab.topo.eips[0], lab.topo.lbs
    wrong = lbs[1].key if eip.owner == lbs[0].key else lbs[0].key
    owner = lab.machines[eip.owner]
    _pause_reconcile(owner)
    try:
        t0 = time.time()
        _misplace(lab, eip.key, wrong)
        rc_drift, drift = _status_until(lab, spec, obs, eip.key, wrong)
    finally:
        owner.systemctl("start", RECONCILE_TIMER)
    text = json.dumps(drift.get("drift", drift))
    if rc_drift != 1:
        problems.append(f"status with {eip.key} on {wrong} exited {rc_drift}, not 1")
    for name in (eip.key, eip.owner, wrong):
        if name not in text:
            problems.append(f"the drift report does not name {name}: {text[:400]}")
    day2.home(lab, obs, problems, "the reconcile")
    t1 = time.time()
    rc_after, after = status(lab, spec)
    if rc_after != 0:
        problems.append(f"status after the reconcile exited {rc_after}: {json.dumps(after)[:400]}")
    counted = day2.traffic(lab, obs, t0, t1)
    day2.zero_failures(counted, problems)
    return {
        "problems": problems,
        "status": {"at_rest": rc, "misplaced": rc_drift, "after_reconcile": rc_after},
        "drift": drift.get("drift", []),
        "reconciled_s": round(t1 - t0, 1),
        **counted,
    }


def _pause_reconcile(owner: BootedHost) -> None:
    """The owner's reconcile timer stopped, and no reconcile run in flight (bounded), while
    the drift is created and read: a run firing between the misplacement and the report (one
    in every ~6 CI runs: the timer fires every 30 s, a loaded `status` takes seconds) takes the
    EIP home first and `status` rightly reports no drift, which proves nothing."""
    owner.systemctl("stop", RECONCILE_TIMER)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = owner.systemctl("is-active", RECONCILE_SERVICE, check=False).strip()
        if state not in ("active", "activating", "deactivating"):
            return
        time.sleep(0.2)
    raise LabError(f"{RECONCILE_SERVICE} on {owner.key} still running after 60 s")


def _misplace(lab: BootedLab, eip: str, lb: str) -> None:
    """AssociateAddress of `eip` to `lb`'s ENI, sent straight from the controller namespace
    (not a claim: no node asked for it)."""
    ids = lab.ids
    cmd = [
        "aws",
        "ec2",
        "associate-address",
        "--allocation-id",
        ids["eips"][eip]["allocation_id"],
        "--network-interface-id",
        ids["enis"][lb]["eni_id"],
        "--allow-reassociation",
    ]
    from hacompile.verify.tools import executable

    env = {
        "PATH": f"{executable('aws').parent}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(lab.dir / "controller"),
        **aws_env(lab.topo.api_url, lab.topo.region),
    }
    subprocess.run(
        ["ip", "netns", "exec", lab.topo.ns("ctl"), *cmd],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )


def _status_until(
    lab: BootedLab, spec: Path, obs: Observer, eip: str, wrong: str
) -> tuple[int, dict[str, Any]]:
    """`status` once the edge shows `eip` on `wrong` (bounded): a report taken before the
    misplacement landed would prove nothing."""
    deadline = time.monotonic() + 10
    while obs.mapping().get(eip) != wrong and time.monotonic() < deadline:
        time.sleep(0.05)
    return status(lab, spec)
