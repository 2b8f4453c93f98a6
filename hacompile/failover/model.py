"""Frozen values of the failover proof, shared by the analysis, the CLI and the README.

They hold numbers and names only; wording for people is done where the values are printed.
`Record`s (NamedTuples, cheaper to define) for the start-up cost, as in `hacompile.plan.model`.
"""

from __future__ import annotations

from hacompile.errors import Loc, Severity
from hacompile.record import Record

NODE_DOWN = ""  # Failure.check for "the whole node is down"
HAPROXY_DOWN = "*haproxy*"  # Failure.check when no check watches HAProxy but it died anyway


class Failure(Record):
    """One thing that broke: a check failing on a load balancer, or the whole node down."""

    lb: str
    check: str  # a check name, NODE_DOWN or HAPROXY_DOWN

    @property
    def node_down(self) -> bool:
        return self.check == NODE_DOWN


class Scenario(Record):
    kind: str  # healthy | single | node_down | pair | all_haproxy_down
    failures: tuple[Failure, ...]


class NodeState(Record):
    """One load balancer's side of one VRRP instance in one scenario."""

    lb: str
    ip: str  # primary private IP: the unicast source that breaks ties
    state: str  # up | FAULT | down
    priority: int  # effective priority; 0 when FAULT or down
    haproxy_up: bool
    healthy: bool  # up, every check passing


class Outcome(Record):
    """Who holds one EIP or private VIP in one scenario, and by how much. A VIP's `nodes` are
    its holders only (in LB order): a load balancer without an instance for it is never a
    candidate, so the proof's rules cannot count it as a peer."""

    eip: str  # the VRRP instance: an EIP's key (eip1 ...) or a VIP's name
    owner: str  # the LB that is MASTER for it while everything is healthy
    nodes: tuple[NodeState, ...]
    holder: str  # "" when every node is down or in FAULT
    runner_up: str
    margin: int | None  # holder's priority minus the runner-up's
    tie: bool  # holder and runner-up advertise the same priority: decided by IP
    strategy: str = "eip"  # | route | secondary_ip (a VIP): how the address moves

    @property
    def moved(self) -> bool:
        return self.holder != self.owner

    def node(self, lb: str) -> NodeState:
        return next(n for n in self.nodes if n.lb == lb)


class Row(Record):
    scenario: Scenario
    outcomes: tuple[Outcome, ...]  # one per EIP, in EIP order, then one per VIP, in spec order


class RegionReport(Record):
    """One region's scenario table. Regions with the same layout (see
    `hacompile.failover.scenarios.layout`) share the first such region's `rows`, named in
    `same_as`: every outcome is then identical except `NodeState.ip`, which is that region's
    (only the order of the IPs decides anything, and the layout includes it)."""

    region: str
    lbs: tuple[str, ...]
    eips: tuple[str, ...]
    rows: tuple[Row, ...]
    same_as: str = ""  # the region analysed for this one; "" when it was analysed itself
    vips: tuple[str, ...] = ()  # the region's private VIPs, by name, after the EIPs in a row


class Timing(Record):
    """Worst case for one kind of failure: VRRP decides within `decide`, the address has moved
    within `total` (decide + the claim script's time budget + `propagation`). The EIPs' rows
    (`Report.timings`) have no propagation term, as before private VIPs; a VIP's rows
    (`Report.vip_timings`) add its strategy's (hacompile.failover.timing.PROPAGATION)."""

    event: str  # node_lost | check | fault_check
    check: str  # check name, "" for node_lost
    # seconds until the failure is known; for a lost node, the master-down interval of silence
    # after which a backup both knows and takes over (takeover 0)
    detect: float
    takeover: float  # seconds from detection until the new MASTER runs notify_master
    decide: float
    claim_budget: int
    claim_attempts: int
    total: float
    formula: str
    region: str = ""  # a VIP's region; "" for the EIPs' rows, which hold for every EIP
    instance: str = ""  # a VIP's name; "" for the EIPs' rows
    strategy: str = "eip"  # | route | secondary_ip
    propagation: float = 0.0  # seconds from the claim's verified API change to the data path


class Finding(Record):
    loc: Loc
    severity: Severity
    kind: str  # haproxy_down_keeps | degraded_keeps | tie | margin | no_haproxy_check
    message: str


class Report(Record):
    regions: tuple[RegionReport, ...]
    timings: tuple[Timing, ...]
    failback: tuple[str, ...]  # sentences, in order
    findings: tuple[Finding, ...]
    haproxy_checks: tuple[str, ...]
    haproxy_process: str
    tie_rule: str
    # the DNS part of the timeline (spec `dns`), a sentence; "" without Route 53 records
    dns: str = ""
    vip_timings: tuple[Timing, ...] = ()  # per region, VIP and failure; () without VIPs
