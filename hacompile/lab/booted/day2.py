"""Day-2 procedures on the booted tier, under the client's steady traffic: the bundle's rolling
maintenance (ansible/maintenance.yml), its refusal while a node is down, `hacompile status`
against a deliberately misplaced EIP, and the replacement of a load balancer.

Why as procedures and not fault scenarios: a scenario injects a failure and measures how the
tier recovers; a procedure is what an operator does on purpose, and its one figure is the
client's failed requests, which must be 0 (issue 17). Each returns a result row in the shape
the report prints (`scenario`, `passed`, `problems`), plus what it counted; every wait is
bounded, and a procedure that fails leaves the tier at rest again where it can.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hacompile.lab.booted import day2_status
from hacompile.lab.booted.deploy import play
from hacompile.lab.observe import Observer
from hacompile.lab.runner import heal_timeout, wait_steady
from hacompile.lab.scenarios import rightful, successor

if TYPE_CHECKING:
    from hacompile.lab.booted.lab import BootedLab

PROCEDURES = (
    "rolling-maintenance",
    "maintenance-refused",
    "maintenance-step-fails",
    "status-drift",
    "node-replaced",
)
FLAG = "/etc/hacompile/maintenance"


def run_procedure(
    lab: BootedLab, obs: Observer, name: str, spec: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    """Procedure `name` (one of PROCEDURES) on a deployed, steady lab."""
    steps = {
        "rolling-maintenance": lambda: rolling_maintenance(lab, obs),
        "maintenance-refused": lambda: maintenance_refused(lab, obs),
        "maintenance-step-fails": lambda: maintenance_step_fails(lab, obs),
        "status-drift": lambda: day2_status.status_drift(lab, obs, spec),
        "node-replaced": lambda: node_replaced(lab, obs, lab.topo.lbs[0].key),
    }
    result: dict[str, Any] = {"scenario": name, "procedure": True, "problems": []}
    region = lab.plan.regions[lab.region_index]
    ok, _, why = wait_steady(lab, obs, rightful(region), set(), heal_timeout(lab))
    if not ok:
        result["problems"].append(f"lab not steady before the procedure: {why}")
    else:
        say(f"procedure {name}")
        t0 = time.time()
        result.update(steps[name]())
        result["seconds"] = round(time.time() - t0, 1)
    result["passed"] = not result["problems"]
    return result


def _key(lab: BootedLab) -> Path:
    return lab.dir / "controller" / "id_ed25519"


def traffic(lab: BootedLab, obs: Observer, t0: float, t1: float) -> dict[str, Any]:
    """What the client saw between t0 and t1 (once its last requests there are answered)."""
    time.sleep(1.5)  # each request times out after 1 s: the ones sent before t1 are in
    keys = [e.key for e in lab.topo.eips]
    rows = {k: obs.probe_rows(k, t0, t1) for k in keys}
    moves: dict[str, list[tuple[float, str]]] = {k: [] for k in keys}
    for event in obs.moves(t0, t1):
        if event["eip"] in moves:
            moves[event["eip"]].append((round(float(event["t"]) - t0, 2), event["lb"]))
    return {
        "requests": {k: len(v) for k, v in rows.items()},
        "failed_requests": {k: sum(not p.ok for p in v) for k, v in rows.items()},
        "moves": moves,
    }


def zero_failures(counted: dict[str, Any], problems: list[str]) -> None:
    for eip, failed in counted["failed_requests"].items():
        if failed:
            problems.append(f"{eip}: {failed} of {counted['requests'][eip]} requests failed")
        if counted["requests"][eip] == 0:
            problems.append(f"{eip}: the client sent no request (no measurement)")


def _flags(lab: BootedLab) -> list[str]:
    """The load balancers in maintenance now."""
    return [
        k for k in lab.lbs if lab.machines[k].run("test", "-e", FLAG, check=False).returncode == 0
    ]


def home(lab: BootedLab, obs: Observer, problems: list[str], what: str) -> None:
    region = lab.plan.regions[lab.region_index]
    ok, _, why = wait_steady(lab, obs, rightful(region), set(), heal_timeout(lab))
    if not ok:
        problems.append(f"not at rest after {what}: {why}")


def rolling_maintenance(lab: BootedLab, obs: Observer) -> dict[str, Any]:
    """maintenance.yml over every LB, no step but the way in and out: each of a node's EIPs
    moves away and comes home, one node at a time, and not one request fails."""
    problems: list[str] = []
    t0 = time.time()
    run = play(lab, _key(lab), "maintenance", playbook_file="maintenance.yml")
    t1 = time.time()
    counted = traffic(lab, obs, t0, t1)
    if run.returncode != 0:
        problems.append(f"maintenance.yml exited {run.returncode}: {_tail(run.log)}")
    zero_failures(counted, problems)
    region = lab.plan.regions[lab.region_index]
    for eip in region.eips:  # away to the next in line, then home; nothing else
        expect = [successor(region, eip.key, {eip.master}), eip.master]
        got = [lb for _, lb in counted["moves"][eip.key]]
        if got != expect:
            problems.append(f"{eip.key} moved {got}, expected {expect}")
    order = [counted["moves"][e.key][0][0] for e in region.eips if counted["moves"][e.key]]
    if order != sorted(order):
        problems.append(f"the nodes were not taken out one after the other: {order}")
    if _flags(lab):
        problems.append(f"left in maintenance: {_flags(lab)}")
    home(lab, obs, problems, "the maintenance")
    return {"problems": problems, "play": run.as_json(), **counted}


def maintenance_refused(lab: BootedLab, obs: Observer) -> dict[str, Any]:
    """With the last LB's Keepalived stopped (its EIP on the next node), maintenance.yml must
    refuse before it changes anything: no node in maintenance, no EIP moved by it."""
    problems: list[str] = []
    region = lab.plan.regions[lab.region_index]
    down = lab.topo.lbs[-1].key
    machine = lab.machines[down]
    machine.systemctl("stop", machine.keepalived_service)
    owners = {k: successor(region, k, {down}) for k in rightful(region)}
    ok, _, why = wait_steady(lab, obs, owners, {down}, heal_timeout(lab))
    if not ok:
        problems.append(f"no steady state with {down}'s Keepalived stopped: {why}")
    t0 = time.time()
    run = play(lab, _key(lab), "maintenance-refused", playbook_file="maintenance.yml")
    t1 = time.time()
    counted = traffic(lab, obs, t0, t1)
    text = run.log.read_text(encoding="utf-8", errors="replace")
    if run.returncode == 0:
        problems.append("maintenance.yml ran with a node down")
    host = next(lb.host for lb in region.load_balancers if lb.key == down)
    if f"{host}: {lab.plan.flavor.keepalived_service} is inactive" not in text:
        problems.append(f"the refusal does not name {host}'s stopped Keepalived")
    if "Enter maintenance" in text:
        problems.append("a node entered maintenance")
    if _flags(lab):
        problems.append(f"in maintenance: {_flags(lab)}")
    if any(counted["moves"].values()):
        problems.append(f"EIPs moved during the refused run: {counted['moves']}")
    zero_failures(counted, problems)
    machine.start_keepalived()
    home(lab, obs, problems, f"{down}'s Keepalived came back")
    return {"problems": problems, "play": run.as_json(), "down": down, **counted}


def maintenance_step_fails(lab: BootedLab, obs: Observer) -> dict[str, Any]:
    """The operator's step fails on the first node: the play must stop there, that node stay
    in maintenance with its EIPs served by the next in line, no other node be touched, and no
    request fail; `hacompile-maintenance off` then brings it back."""
    problems: list[str] = []
    region = lab.plan.regions[lab.region_index]
    first = lab.topo.lbs[0].key
    steps = {"maintenance_steps": ["command"], "maintenance_command": "exit 3"}
    t0 = time.time()
    run = play(
        lab,
        _key(lab),
        "maintenance-step-fails",
        playbook_file="maintenance.yml",
        args=("-e", json.dumps(steps)),
    )
    text = run.log.read_text(encoding="utf-8", errors="replace")
    if run.returncode == 0:
        problems.append("maintenance.yml passed although the step failed")
    if "stays in maintenance" not in text:
        problems.append("the failure does not say the node stays in maintenance")
    if _flags(lab) != [first]:
        problems.append(f"in maintenance: {_flags(lab)}, expected only {first}")
    owners = {k: successor(region, k, {first}) for k in rightful(region)}
    ok, _, why = wait_steady(lab, obs, owners, {first}, 30)
    if not ok:
        problems.append(f"the tier is not serving around {first}: {why}")
    t1 = time.time()
    counted = traffic(lab, obs, t0, t1)
    zero_failures(counted, problems)
    lab.machines[first].run("/usr/local/sbin/hacompile-maintenance", "off")
    home(lab, obs, problems, f"{first} left maintenance")
    return {"problems": problems, "play": run.as_json(), **counted}


def node_replaced(lab: BootedLab, obs: Observer, key: str) -> dict[str, Any]:
    """The documented replacement of load balancer `key`: drained through maintenance.yml
    (maintenance_stay), destroyed, recreated from the image (`terraform apply -replace`),
    its old host key forgotten, `site.yml --limit` on it alone; it must rejoin with its EIPs
    home, and the client must not lose one request on the way."""
    problems: list[str] = []
    region = lab.plan.regions[lab.region_index]
    lb = next(x for x in region.load_balancers if x.key == key)
    t0 = time.time()
    drain = play(
        lab,
        _key(lab),
        "replace-drain",
        playbook_file="maintenance.yml",
        args=("-e", f"maintenance_hosts={lb.host}", "-e", "maintenance_stay=true"),
    )
    if drain.returncode != 0:
        problems.append(f"maintenance.yml (drain {lb.host}) exited {drain.returncode}")
        return {"problems": problems}
    lab.replace_host(key)
    known = lab.dir / "controller" / "known_hosts"
    subprocess.run(
        ["ssh-keygen", "-R", lb.private_ip, "-f", str(known)],
        capture_output=True,
        check=False,
        timeout=30,
    )
    converge = play(lab, _key(lab), "replace-converge", args=("--limit", lb.host))
    if converge.returncode != 0:
        problems.append(f"site.yml --limit {lb.host} exited {converge.returncode}")
    home(lab, obs, problems, f"{key} was replaced")
    t1 = time.time()
    counted = traffic(lab, obs, t0, t1)
    zero_failures(counted, problems)
    return {
        "problems": problems,
        "replaced": key,
        "drain": drain.as_json(),
        "converge": converge.as_json(),
        **counted,
    }


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-1500:]
