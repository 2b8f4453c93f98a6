"""The fault matrix: what each scenario breaks, how it heals, and where each EIP must end up.

Why declarative: a scenario is a list of faults on named LBs (plus optional EC2 API faults);
`expected_owners` derives from the plan's priorities which LB must hold each EIP while those
faults last, so the same matrix applies to 2, 3 or 8 LBs and the pass criteria never hard-code
a topology. The victim is always the owner of eip1 (lb1); "two failures in a row" then also
takes out the LB that inherited eip1.
"""

from __future__ import annotations

from dataclasses import dataclass

from hacompile.plan.model import Region

KINDS = (
    "kill-haproxy",
    "kill-keepalived",
    "stop-keepalived",
    "lose-lb",
    "link-down",
    "partition",
    # booted hosts only: a stop through systemd, a crash the unit's Restart= undoes, a
    # clean shutdown
    "stop-haproxy",
    "crash-haproxy",
    "poweroff",
)
# Faults that leave the LB able to serve again by themselves (the unit restarts what died):
# the LB does not count as down, and its own EIPs may move away and back.
TRANSIENT = ("crash-haproxy",)


@dataclass(frozen=True)
class Fault:
    kind: str  # one of KINDS
    lb: str  # the LB it hits ("" for the next in line, see expected_owners)


@dataclass(frozen=True)
class ApiFault:
    """EC2 API misbehaviour for the scenario (hacompile.standins.faultproxy.Fault fields)."""

    action: str
    status: int
    code: str
    message: str
    times: int | None
    delay: float = 0.0  # answer this late (+ up to jitter); status 0: then forward
    jitter: float = 0.0


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    faults: tuple[Fault, ...]
    api: tuple[ApiFault, ...] = ()
    min_lbs: int = 2
    load: int = 0  # busy-loop processes per LB while the scenario runs (hacompile.lab.load)

    @property
    def split_brain(self) -> bool:
        return any(f.kind == "partition" for f in self.faults)


def _api_error(times: int) -> ApiFault:
    return ApiFault(
        "AssociateAddress", 500, "InternalError", "An internal error has occurred.", times
    )


def _throttle(times: int) -> ApiFault:
    return ApiFault("*", 503, "RequestLimitExceeded", "Request limit exceeded.", times)


MATRIX: tuple[Scenario, ...] = (
    Scenario(
        "haproxy-killed", "HAProxy SIGKILLed on the EIP's master", (Fault("kill-haproxy", "lb1"),)
    ),
    Scenario(
        "keepalived-killed",
        "Keepalived SIGKILLed on the EIP's master (no goodbye)",
        (Fault("kill-keepalived", "lb1"),),
    ),
    Scenario(
        "keepalived-stopped",
        "Keepalived stopped gracefully (SIGTERM: priority 0 advert)",
        (Fault("stop-keepalived", "lb1"),),
    ),
    Scenario(
        "lb-lost", "Whole LB lost (its PID-namespace init killed)", (Fault("lose-lb", "lb1"),)
    ),
    Scenario(
        "link-down", "LB's link down (cable pulled at the bridge)", (Fault("link-down", "lb1"),)
    ),
    Scenario(
        "split-brain",
        "LB<->LB partition, both still reach the EC2 API; then healed",
        (Fault("partition", "lb1"),),
    ),
    Scenario(
        "api-errors",
        "EC2 API fails the first 3 AssociateAddress calls (HTTP 500)",
        (Fault("kill-haproxy", "lb1"),),
        api=(_api_error(3),),
    ),
    Scenario(
        "api-throttled",
        "EC2 API throttles the first 4 calls (RequestLimitExceeded)",
        (Fault("kill-haproxy", "lb1"),),
        api=(_throttle(4),),
    ),
    Scenario(
        "two-failures",
        "Two failures in a row: lb1's HAProxy, then its successor's",
        (Fault("kill-haproxy", "lb1"), Fault("kill-haproxy", "")),
        min_lbs=3,
    ),
)

# On booted hosts systemd supervises the daemons: HAProxy's unit restarts it 100 ms after a
# SIGKILL (Restart=always), so "killed" becomes a crash the unit undoes, and a fault that must
# keep HAProxy down is `systemctl stop`; a clean power-off joins the matrix.
BOOTED_MATRIX: tuple[Scenario, ...] = (
    Scenario(
        "haproxy-stopped",
        "HAProxy stopped (systemctl stop) on the EIP's master",
        (Fault("stop-haproxy", "lb1"),),
    ),
    Scenario(
        "haproxy-killed",
        "HAProxy SIGKILLed on the EIP's master; its unit restarts it",
        (Fault("crash-haproxy", "lb1"),),
    ),
    *(s for s in MATRIX if s.name in ("keepalived-killed", "keepalived-stopped")),
    Scenario(
        "lb-lost",
        "Whole LB lost (power cut: SIGKILL to its PID 1), then booted",
        (Fault("lose-lb", "lb1"),),
    ),
    Scenario(
        "lb-poweroff",
        "LB shut down cleanly (systemctl poweroff), then booted",
        (Fault("poweroff", "lb1"),),
    ),
    *(s for s in MATRIX if s.name in ("link-down", "split-brain")),
    Scenario(
        "api-errors",
        "EC2 API fails the first 3 AssociateAddress calls (HTTP 500)",
        (Fault("stop-haproxy", "lb1"),),
        api=(_api_error(3),),
    ),
    Scenario(
        "api-throttled",
        "EC2 API throttles the first 4 calls (RequestLimitExceeded)",
        (Fault("stop-haproxy", "lb1"),),
        api=(_throttle(4),),
    ),
    Scenario(
        "two-failures",
        "Two failures in a row: lb1's HAProxy, then its successor's",
        (Fault("stop-haproxy", "lb1"), Fault("stop-haproxy", "")),
        min_lbs=3,
    ),
)

# The busy family: the same faults while every LB's CPUs are saturated (BUSY_LOOPS busy loops
# per LB at nice 0, as many as a t3.medium has vCPUs; in the lab all LBs share the machine's
# cores, so the load is several times the core count), and apart from it a slow EC2 API. Not in
# the default matrix (each adds a soak and the load slows the whole machine); `--scenario busy`
# selects the family, `--scenario busy-...` one of it.
BUSY_LOOPS = 2
SLOW_API = ApiFault("*", 0, "", "", None, delay=1.0, jitter=1.0)  # every call 1-2 s late
BUSY: tuple[Scenario, ...] = (
    *(
        Scenario(
            f"busy-{s.name}",
            f"{s.description}; every LB's CPUs busy",
            s.faults,
            s.api,
            s.min_lbs,
            BUSY_LOOPS,
        )
        for s in MATRIX
        if s.name in ("haproxy-killed", "keepalived-killed", "lb-lost")
    ),
    Scenario(
        "busy-slow-api",
        "HAProxy SIGKILLed on the EIP's master; every EC2 API call answers 1-2 s late",
        (Fault("kill-haproxy", "lb1"),),
        api=(SLOW_API,),
    ),
)

FAST = ("haproxy-killed", "lb-lost")  # the benchmark's default scenarios


def select(names: list[str] | None, lb_count: int, booted: bool = False) -> list[Scenario]:
    known = {s.name: s for s in (BOOTED_MATRIX if booted else MATRIX)}
    if not booted:  # the busy family is selected by name ("busy": all of it), never by default
        known |= {s.name: s for s in BUSY}
        names = [x for n in names or [] for x in ([s.name for s in BUSY] if n == "busy" else [n])]
    if names:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
        chosen = [known[n] for n in names]
    else:
        chosen = [s for s in known.values() if s not in BUSY]
    return [s for s in chosen if s.min_lbs <= lb_count]


def priority(region: Region, lb: str, eip: str) -> int:
    host = next(x for x in region.load_balancers if x.key == lb)
    return next(i.priority for i in host.instances if i.name == eip)


def successor(region: Region, eip: str, down: set[str]) -> str:
    """The LB that holds `eip` (an EIP or a private VIP, by instance name) while the LBs in
    `down` are out: highest priority left among those that have the instance ('' if none:
    every holder of a VIP is down)."""
    holders = {lb.key for lb in region.load_balancers if any(i.name == eip for i in lb.instances)}
    alive = [lb.key for lb in region.load_balancers if lb.key not in down and lb.key in holders]
    return max(alive, key=lambda lb: priority(region, lb, eip), default="")


def rightful(region: Region) -> dict[str, str]:
    """Every address's owner while all is well: the EIPs', then the private VIPs'."""
    return {e.key: e.master for e in region.eips} | {v.name: v.master for v in region.vips}


def resolve(region: Region, scenario: Scenario) -> list[Fault]:
    """Fill in "the next in line" targets: each empty lb is whoever holds eip1 by then."""
    out: list[Fault] = []
    down: set[str] = set()
    for fault in scenario.faults:
        lb = fault.lb or successor(region, region.eips[0].key, down)
        out.append(Fault(fault.kind, lb))
        if fault.kind != "partition" and fault.kind not in TRANSIENT:
            down.add(lb)
    return out


def expected_owners(region: Region, faults: list[Fault]) -> dict[str, str]:
    """Where each EIP and private VIP belongs while `faults` last ('' for a VIP all of whose
    holders are down). A partition moves nothing for good: the owner's reconcile takes its
    address back, and the other side never re-claims."""
    down = {f.lb for f in faults if f.kind != "partition" and f.kind not in TRANSIENT}
    return {key: successor(region, key, down) for key in rightful(region)}
