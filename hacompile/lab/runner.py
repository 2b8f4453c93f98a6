"""Run scenarios on a standing lab: inject, wait for the new steady state, heal, wait again.

Why steady states and not fixed sleeps: a phase ends when the edge, the VRRP states and the
client agree for a second (bounded by a timeout derived from the spec), so the numbers are what
the design delivers and a run takes no longer than it must. Pass criteria (never exact times):
every EIP back on its rightful owner after the heal, no EIP moving more often than the faults
explain (ping-pong), no EIP left on a failed node beyond the detection budget, and EIPs of
healthy owners untouched (outside a split brain).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hacompile.lab.capture import StateLog, measure
from hacompile.lab.inject import apply, heal
from hacompile.lab.load import Load, soak_seconds
from hacompile.lab.observe import Observer, cloud_call
from hacompile.lab.scenarios import TRANSIENT, Fault, Scenario, expected_owners, resolve, rightful
from hacompile.lab.setup import Lab
from hacompile.lab.vipcheck import holder_problems

SETTLE = 1.0  # seconds the edge, VRRP and client must agree
# hacompile-eip-claim's worst case, kept from its AWS CLI path (the fallback of the signed
# write): IMDS, describe, associate (0.5-2.5 s each under load)
CLAIM_SLACK = 8.0
CLAIM_CALLS = 3  # EC2 calls before the edge follows on that path: describe, associate, describe


def budget(lab: Lab, scenario: Scenario) -> float:
    """Seconds within which an EIP must have left a failed node: the compiler's own timing
    model (hacompile.failover.timing, as `hacompile explain` prints it) for the failure,
    plus CLAIM_SLACK for the claim script's API calls, plus the backoff of injected API errors."""
    from hacompile.failover.timing import timings

    model = {(t.event, t.check): t.decide for t in timings(lab.plan)}
    decide = model[("node_lost", "")]
    if any(f.kind in ("kill-haproxy", "stop-haproxy", "crash-haproxy") for f in scenario.faults):
        names = [
            c.name
            for c in lab.plan.keepalived.checks
            if c.kind == "process" and c.process == lab.plan.flavor.haproxy_process
        ]
        decide = max((v for (event, check), v in model.items() if check in names), default=decide)
    # Per injected failure: the claim's backoff (doubling from 1 s, up to +50 % jitter) plus
    # the CLI calls of one more attempt.
    api = sum(
        sum(1.5 * 2 ** min(i, 4) + CLAIM_SLACK / 2 for i in range(f.times or 0))
        for f in scenario.api
        if f.status
    )
    # A slow API: each of the claim's calls on the hot path (describe, associate, describe)
    # answers that much later.
    api += sum(CLAIM_CALLS * (f.delay + f.jitter) for f in scenario.api if not f.status)
    return decide + CLAIM_SLACK + api


def heal_timeout(lab: Lab) -> float:
    ka = lab.plan.keepalived
    gw = max((c.interval * (c.rise + 1) for c in ka.checks if c.kind == "gateway"), default=0)
    return ka.preempt_delay + 3 * float(ka.advert_int) + gw + ka.reconcile_interval + 30


def wait_steady(
    lab: Lab,
    obs: Observer,
    owners: dict[str, str],
    down: set[str],
    timeout: float,
    split: bool = False,
) -> tuple[bool, float, str]:
    """(reached, when it started holding, what was still wrong if not)."""
    deadline = time.monotonic() + timeout
    since: float | None = None
    # In a split brain the other side's claim lands a few seconds after both became MASTER:
    # hold long enough to see it, then wait for the owner's reconcile to take the EIP back.
    settle = CLAIM_SLACK + 2 if split else SETTLE
    why = ""
    while time.monotonic() < deadline:
        now = time.time()
        mapping = obs.mapping()
        why = ""
        for eip, lb in owners.items():
            if not lb:  # a private VIP whose holders are all down: nothing can serve it
                continue
            if mapping.get(eip) != lb:
                why = f"{eip} on {mapping.get(eip) or 'nothing'}, expected {lb}"
            elif lab.lbs[lb].state(eip) != "MASTER":
                why = f"{lb} not MASTER of {eip} ({lab.lbs[lb].state(eip) or '?'})"
            elif not split and any(
                lab.lbs[o].state(eip) == "MASTER" for o in lab.lbs if o not in down and o != lb
            ):
                why = f"another live LB is MASTER of {eip}"
            elif split and sum(lab.lbs[o].state(eip) == "MASTER" for o in lab.lbs) < 2:
                why = f"no split brain (yet) on {eip}: one MASTER"
            elif not obs.serving(eip, now):
                why = f"client not served on {eip}"
            if why:
                break
        if why:
            since = None
        elif since is None:
            since = now
        elif now - since >= settle:
            return True, since, ""
        time.sleep(0.1)
    return False, time.time(), why


def run_scenario(
    lab: Lab, obs: Observer, scenario: Scenario, say: Callable[[str], None]
) -> dict[str, Any]:
    """One scenario's results, with every LB's VRRP states logged throughout (the report's);
    with `scenario.load` under that CPU load, which ends with the scenario (also when it raises)
    and can outlive it by no more than the scenario's own bound."""
    keys = [e.key for e in lab.topo.eips] + [v.key for v in lab.topo.vips]
    hard = int(2 * heal_timeout(lab) + len(scenario.faults) * (budget(lab, scenario) + 40) + 60)
    with (
        StateLog(list(lab.lbs), keys, obs.states) as log,
        Load(lab.lbs, scenario.load, hard) as load,
    ):
        return _run(lab, obs, scenario, say, log, load)


def _run(
    lab: Lab,
    obs: Observer,
    scenario: Scenario,
    say: Callable[[str], None],
    log: StateLog,
    load: Load,
) -> dict[str, Any]:
    region = lab.plan.regions[lab.region_index]
    home = rightful(region)
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "description": scenario.description,
        "problems": [],
    }
    problems: list[str] = result["problems"]
    ok, _, why = wait_steady(lab, obs, home, set(), heal_timeout(lab))
    if not ok:
        problems.append(f"lab not steady before the scenario: {why}")
        result["passed"] = False
        return result
    soak_from = time.time()
    if scenario.load:
        say(f"  load: {scenario.load} busy loops on each LB, {soak_seconds(lab.plan):.0f}s soak")
        load.refresh()
        time.sleep(soak_seconds(lab.plan))
    result["soak_moves"] = len(obs.moves(soak_from, time.time()))
    faults = resolve(region, scenario)
    down = {f.lb for f in faults if f.kind != "partition" and f.kind not in TRANSIENT}
    crashed = {f.lb for f in faults if f.kind in TRANSIENT}
    limit = budget(lab, scenario)
    calls0, _ = obs.calls(0)
    cloud_call(obs.control, {"op": "faults", "faults": [vars(f) for f in scenario.api]})
    result["start_owners"] = obs.mapping()
    t0 = time.time()
    marks: list[dict[str, Any]] = []  # faults and heals, seconds from the first fault
    result["marks"] = marks
    applied: list[Fault] = []
    hit_at: dict[str, float] = {}  # LB -> seconds after t0 when its fault was injected
    for fault in faults:
        say(f"  inject {fault.kind} on {fault.lb}")
        hit_at.setdefault(fault.lb, time.time() - t0)
        marks.append({"t": round(time.time() - t0, 3), "what": "inject", **vars(fault)})
        apply(lab, fault)
        applied.append(fault)
        if fault.kind in TRANSIENT:
            # Whatever the checks make of a crash shows within the detection budget; then the
            # EIPs must be (back) home.
            time.sleep(limit)
        owners = expected_owners(region, applied)
        wait = (
            limit
            + (lab.plan.keepalived.reconcile_interval + 10 if scenario.split_brain else 0)
            + 15
        )
        if fault.kind in TRANSIENT:
            wait = heal_timeout(lab)
        ok, _, why = wait_steady(
            lab,
            obs,
            owners,
            {f.lb for f in applied if f.kind != "partition" and f.kind not in TRANSIENT},
            wait,
            split=scenario.split_brain,
        )
        if not ok:
            problems.append(f"no steady state after {fault.kind} on {fault.lb}: {why}")
    t1 = time.time()
    result["inject"] = inject = measure(lab, obs, t0, t1, calls0, log)
    inject["started_at"] = round(t0, 3)  # epoch: to line the LBs' own logs up with the phase
    calls1, _ = obs.calls(0)
    cloud_call(obs.control, {"op": "faults", "faults": []})
    t2 = time.time()
    for fault in reversed(applied):
        say(f"  heal {fault.kind} on {fault.lb}")
        marks.append({"t": round(time.time() - t0, 3), "what": "heal", **vars(fault)})
        trouble = heal(lab, fault)
        if trouble:
            problems.append(trouble)
    load.refresh()  # a lost LB booted without its load
    ok, _, why = wait_steady(lab, obs, home, set(), heal_timeout(lab))
    if not ok:
        problems.append(f"not back to the rightful owners after the heal: {why}")
    t3 = time.time()
    result["heal"] = healed = measure(lab, obs, t2, t3, calls1, log)
    result["heal_at_s"] = round(t2 - t0, 3)
    result["final_owners"] = obs.mapping()
    # ---- pass criteria ----
    problems.extend(holder_problems(lab, inject, healed))
    unexplained = result["soak_moves"]
    if unexplained:
        problems.append(f"{unexplained} address move(s) under load before any fault")
    left = expected_owners(region, faults)  # '' for a VIP whose holders were all down
    for eip, owner in home.items():
        if result["final_owners"].get(eip) != owner:
            problems.append(f"{eip} ended on {result['final_owners'].get(eip)}, not {owner}")
        # A split brain: the other side claims, the owner's reconcile takes it back; and once
        # more if that reconcile lands while the other side's claim is still verifying (it
        # sees the address elsewhere and retries once, then never claims again).
        allowed = 4 if scenario.split_brain else 2 if owner in crashed else len(faults)
        healthy = not scenario.split_brain and owner not in crashed and owner not in down
        for phase, data in (("inject", inject), ("heal", healed)):
            # unexplained: every move of a healthy owner's address, else those beyond the faults
            unexplained += len(data["moves"][eip]) if healthy else 0
            if len(data["moves"][eip]) > allowed:
                unexplained += 0 if healthy else len(data["moves"][eip]) - allowed
                problems.append(
                    f"ping-pong: {eip} moved {len(data['moves'][eip])} times "
                    f"during {phase} (at most {allowed} expected)"
                )
        if owner in down and left[eip]:
            # Measured from the fault that hit the owner (the second of two in a row counts
            # from its own injection).
            later = [
                t - hit_at[owner]
                for t, lb in inject["moves"][eip]
                if t >= hit_at[owner] and lb != owner
            ]
            moved = round(later[0], 3) if later else None
            if moved is None or moved > limit:
                problems.append(
                    f"{eip} stayed on failed {owner} beyond the {limit:.1f}s "
                    f"detection budget (moved: {moved})"
                )
        elif (not scenario.split_brain and owner not in crashed and inject["moves"][eip]) or (
            healthy and healed["moves"][eip]
        ):
            problems.append(f"{eip} moved although its owner {owner} was healthy")
    result["unexplained_moves"] = unexplained
    result["budget_s"] = round(limit, 1)
    result["passed"] = not problems
    return result
