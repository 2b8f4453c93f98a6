"""Worst-case time from a failure to the EIP answering on another node, and the way back.

The VRRP part follows Keepalived 2.2 (vrrp.c):
- a lost MASTER is noticed when a BACKUP's master-down timer expires: 3 x advert_int plus the
  skew (256 - priority) / 256 (x advert_int for VRRPv3; VRRPv2 skews in whole seconds); we use
  the lowest backup priority, the slowest skew;
- a failing weighted check is known after interval x fall; the MASTER then advertises its lower
  priority within one advert_int; a BACKUP with preemption waits `preempt_delay` (it applies to
  every preemption of a live MASTER, not just after a reboot), then lets its master-down timer
  run out: 3 x advert_int + skew;
- a failing weight-0 check puts the MASTER in FAULT, which sends a priority-0 advert: the BACKUP
  takes over after the skew alone.
Then `notify_master` runs the claim script, bounded by its time budget (the plan's
`eip_claim`, which hacompile also writes into eip.env.j2).

A private VIP's instance is decided by the same VRRP rules (the same plan-wide worst case: the
slowest skew of any instance), keepalived adds the address to the new MASTER before
notify_master, and the claim (same budget) changes EC2 state; the address then answers once
the VPC's data path follows that change: `PROPAGATION` per strategy, added to the VIP's rows.
"""

from __future__ import annotations

from hacompile.failover.model import Timing
from hacompile.plan.model import Plan
from hacompile.spec.vrrp import skew_unit

# Seconds from the claim's verified EC2 change (the claim only returns once describe-* shows
# it) until traffic to the address follows it. AWS documents no propagation time (no SLA) for
# any of the three, so these are conservative constants, not measurements of this bundle:
# - eip: 0, the model as it was before private VIPs (the claim's budget ends the EIP's bound);
# - route: ReplaceRoute on the VIP/32; replacing a route is seen to take effect in about a
#   second, a few at worst. ClusterLabs' aws-vpc-move-ip agent, the overlay-IP resource of
#   the AWS "SAP HANA on AWS" high-availability guide (docs.aws.amazon.com/sap/latest/
#   sap-hana/sap-hana-on-aws-move-the-ip-resource.html), waits 1 s after each replace-route
#   before it checks the table; 5 s covers "a few" with margin;
# - secondary_ip: AssignPrivateIpAddresses --allow-reassignment moves the IP between ENIs of
#   one subnet; the same kind of control-plane-to-fabric update, the same 5 s. Keepalived's
#   gratuitous ARPs change nothing on AWS: the VPC fabric answers ARP itself, from EC2's
#   mapping, so only that mapping's propagation counts.
PROPAGATION: dict[str, float] = {"eip": 0.0, "route": 5.0, "secondary_ip": 5.0}
PROPAGATION_WHAT: dict[str, str] = {
    "route": "the VIP/32 route-table change (ReplaceRoute) reaching the VPC's routers",
    "secondary_ip": "the secondary IP's reassignment (AssignPrivateIpAddresses) reaching the "
    "VPC fabric, which answers ARP itself (keepalived's gratuitous ARPs change nothing on AWS)",
}


def _s(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} s"


def _lowest_backup(plan: Plan) -> int:
    return min(
        (
            i.priority
            for r in plan.regions
            for lb in r.load_balancers
            for i in lb.instances
            if not i.master
        ),
        default=1,
    )


def skew(plan: Plan, priority: int) -> float:
    ka = plan.keepalived
    return (256 - priority) / 256 * skew_unit(ka.vrrp_version, float(ka.advert_int))


def master_down(plan: Plan) -> tuple[float, str]:
    """Seconds a BACKUP waits without adverts before it takes over, and how that adds up."""
    advert = float(plan.keepalived.advert_int)
    sk = round(skew(plan, _lowest_backup(plan)), 2)
    return 3 * advert + sk, f"3 x advert_int {_s(advert)} + skew {_s(sk)}"


def timings(plan: Plan) -> tuple[Timing, ...]:
    ka = plan.keepalived
    advert = float(ka.advert_int)
    down, down_formula = master_down(plan)
    sk = round(skew(plan, _lowest_backup(plan)), 2)
    budget, attempts = plan.eip_claim.budget_seconds, plan.eip_claim.attempts

    def timing(event: str, check: str, detect: float, takeover: float, formula: str) -> Timing:
        decide = round(detect + takeover, 2)
        return Timing(
            event,
            check,
            detect,
            round(takeover, 2),
            decide,
            budget,
            attempts,
            round(decide + budget, 2),
            formula,
        )

    # A lost node sends nothing: its silence is the detection, and the first backup whose
    # master-down timer runs out has detected it and takes over at the same moment.
    out = [timing("node_lost", "", down, 0.0, f"no advert for {down_formula}")]
    for check in ka.checks:
        detect = float(check.down_after)
        head = f"interval {_s(check.interval)} x fall {check.fall}"
        if check.weight == 0:
            out.append(
                timing(
                    "fault_check",
                    check.name,
                    detect,
                    sk,
                    f"{head} + skew {_s(sk)} (FAULT sends priority 0)",
                )
            )
        else:
            takeover = advert + ka.preempt_delay + down
            out.append(
                timing(
                    "check",
                    check.name,
                    detect,
                    takeover,
                    f"{head} + advert_int {_s(advert)} + preempt_delay "
                    f"{_s(ka.preempt_delay)} + {down_formula}",
                )
            )
    return tuple(out)


def vip_timings(plan: Plan, eips: tuple[Timing, ...]) -> tuple[Timing, ...]:
    """Each private VIP's bounds, per failure: the EIPs' VRRP part (`eips`, from `timings`),
    the same claim budget, plus the propagation of the VIP's strategy."""
    out = []
    for region in plan.regions:
        for vip in region.vips:
            wait = PROPAGATION[vip.strategy]
            for t in eips:
                out.append(
                    t._replace(
                        total=round(t.decide + t.claim_budget + wait, 2),
                        region=region.name,
                        instance=vip.name,
                        strategy=vip.strategy,
                        propagation=wait,
                    )
                )
    return tuple(out)


def failback(plan: Plan) -> tuple[str, ...]:
    ka = plan.keepalived
    down, down_formula = master_down(plan)
    rises = ", ".join(f"{c.name} {_s(c.interval * c.rise)}" for c in ka.checks)
    lines = [
        "Every VRRP instance starts in BACKUP, so a rebooted node never claims an EIP before it "
        "has heard its peers.",
        f"A check counts as passing again after interval x rise: {rises}."
        if ka.checks
        else "There are no checks: only a lost node moves an EIP.",
    ]
    if ka.preempt_delay > 0:
        lines.append(
            f"Failback is automatic: once the owner of an EIP is healthy again it waits "
            f"preempt_delay {_s(ka.preempt_delay)} after hearing the lower-priority holder, then "
            f"takes the EIP back within {down_formula} = {_s(down)} more, plus the claim "
            f"(at most {_s(plan.eip_claim.budget_seconds)}). That is one more move of the EIP: "
            "connections through it are reset a second time."
        )
    else:
        lines.append(
            f"Failback is immediate (preempt_delay 0): the owner preempts as soon as its priority "
            f"is highest again, within {_s(float(ka.advert_int))} plus the claim. A flapping "
            "check moves the EIP back and forth; a preempt_delay damps that."
        )
    return tuple(lines)


def dns_timeline(plan: Plan) -> str:
    """What DNS adds to a failure: nothing while an EIP has a load balancer (the address moves,
    the record stays); when none serves it, Route 53 drops its record after `failure_threshold`
    failed checks `interval` apart, and resolvers may keep answering it for up to `ttl`."""
    dns = plan.dns
    if dns is None:
        return ""
    check = dns.check
    what = (
        f"{check.type} GET {check.path} on port {check.port}"
        if check.type in ("HTTP", "HTTPS")
        else (f"a TCP connection to port {check.port}")
    )
    text = (
        f"DNS ({dns.name}, one multivalue record per EIP): a failover moves the EIP, so the "
        "record stays and no client waits for DNS. An EIP no load balancer serves (every load "
        f"balancer of its region down) leaves the answers within {check.interval} s x "
        f"{check.failure_threshold} failed checks ({what}) + {dns.ttl} s TTL = "
        f"{dns.drop_seconds} s."
    )
    if dns.routing == "latency":
        text += (
            f" Routing: latency. {dns.name} answers with the EIPs of the region nearest the "
            "client's resolver (each region's set is <region>." + dns.name + "); a region "
            "whose every EIP fails its check is no longer answered, within the same time."
        )
    elif dns.routing == "failover":
        text += (
            f" Routing: failover. {dns.name} answers with {dns.primary}'s EIPs while any of "
            "them passes its check, else with the other region's, within the same time."
        )
    return text
