"""The shape of ha.yaml as frozen pydantic models.

Strict mode on purpose: YAML already types its scalars, so ``"2"`` for a count, ``2.0`` for an
integer or ``yes`` for a boolean is a mistake to report, not to coerce. Unknown keys are errors
(``extra="forbid"``); the locator adds the "did you mean". Cross-field rules (subnets inside the
VPC, priority ladders, ENI limits ...) live in `hacompile.spec.rules`, where they can be reported
all at once with positions.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hacompile.spec import bounds
from hacompile.spec.dns import DnsSpec
from hacompile.spec.observability import LogsSpec, MetricsSpec
from hacompile.spec.security import AmiId, AmiProductCode, SecuritySpec
from hacompile.spec.state import StateSpec
from hacompile.spec.tls import FrontendTlsSpec, PoolTlsSpec, TlsSpec
from hacompile.spec.types import (
    BackendAddress,
    Cidr,
    ClusterName,
    CookieName,
    Duration,
    HttpPath,
    Identifier,
    InstanceType,
    IPv4,
    KeyPairName,
    PoolName,
    Port,
    Priority,
    ProcessName,
    RegionName,
    RouteHost,
    RoutePath,
    SecurityGroupId,
    SubnetId,
    TagKey,
    TagValue,
    VpcId,
    Weight,
    WholeNumber,
    ZoneName,
)
from hacompile.spec.vips import MAX_VIPS, VIPS, VipSpec


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ZoneSpec(Strict):
    """An availability zone; its subnet is carved from the VPC CIDR unless given. In an
    existing VPC (`vpc_id`) the zone names its existing subnet and states that subnet's CIDR:
    hacompile fixes the addresses at compile time, and the plan checks the subnet is what the
    spec says."""

    name: ZoneName
    subnet_cidr: Cidr | None = None
    subnet_id: SubnetId | None = None


class ExistingBackendSpec(Strict):
    name: Identifier
    address: BackendAddress
    port: Port | None = None


class RegionSpec(Strict):
    name: RegionName
    # The VPC's CIDR: the one the bundle creates it with, or, with vpc_id, the existing VPC's
    # (a CIDR block of it; the plan checks it).
    vpc_cidr: Cidr
    # An existing VPC: the bundle creates no VPC, internet gateway or route table in it, and
    # uses the subnet each zone names.
    vpc_id: VpcId | None = None
    # Existing security groups of that VPC, added to the load balancers.
    security_groups: Annotated[list[SecurityGroupId], Field(max_length=4)] = []
    # Addresses already in use in those subnets (other hosts, interfaces): the addresses
    # hacompile picks for the load balancers and demo backends skip them.
    taken: Annotated[list[IPv4], Field(max_length=64)] = []
    zones: Annotated[
        list[ZoneSpec], Field(min_length=2, max_length=bounds.MAX_ZONES, description=bounds.ZONES)
    ]
    backends: Annotated[
        list[ExistingBackendSpec],
        Field(max_length=bounds.MAX_EXISTING_BACKENDS, description=bounds.EXISTING_BACKENDS),
    ] = []
    # Pin the load balancers' AMI in this region: no image lookup at all (either flavor).
    ami_id: AmiId | None = None
    # With top-level `pools`: this region's existing servers of each pool, by pool name
    # (the `backends` entries' shape). A pool with `demo` servers is not listed here.
    pools: Annotated[
        dict[
            PoolName,
            Annotated[list[ExistingBackendSpec], Field(max_length=bounds.MAX_EXISTING_BACKENDS)],
        ],
        Field(max_length=bounds.MAX_POOLS, description=bounds.POOLS),
    ] = {}
    # Private virtual IPs, each moved by route tables or secondary-IP reassignment
    # (hacompile.spec.vips), alongside the EIPs.
    vips: Annotated[list[VipSpec], Field(max_length=MAX_VIPS, description=VIPS)] = []

    @field_validator("zones", mode="before")
    @classmethod
    def _zone_shorthand(cls, value: Any) -> Any:
        """Allow ``zones: [us-east-1a, us-east-1b]`` as well as full zone mappings."""
        if isinstance(value, list):
            return [{"name": z} if isinstance(z, str) else z for z in value]
        return value


class LoadBalancersSpec(Strict):
    count: Annotated[int, Field(ge=2, le=8, description=bounds.LB_COUNT)] = 2
    instance_type: InstanceType = "t3.small"
    flavor: Literal["hapee", "community"] = "community"
    # HAPEE major version: names the AMI, the service (hapee-3.0-lb) and the config paths.
    hapee_version: Annotated[str, Field(pattern=r"^[1-9]\.[0-9]{1,2}$")] = "3.0"
    root_volume_gb: Annotated[int, Field(ge=8, le=1024)] = 16
    # Only for instance types missing from hacompile's table of per-ENI IPv4 limits.
    ipv4_per_eni: Annotated[int, Field(ge=2, le=50)] | None = None
    # HAPEE only: the Marketplace product code the AMI lookup filters by, for a hapee_version
    # missing from hacompile's table (hacompile.plan.amis) or to override it.
    ami_product_code: AmiProductCode | None = None


class DemoBackendsSpec(Strict):
    count: Annotated[int, Field(ge=1, le=1000)] = 3
    instance_type: InstanceType = "t3.micro"


class BackendsSpec(Strict):
    """Where the load balancers send traffic: demo web servers the bundle creates, or existing
    servers listed per region (``regions[].backends``)."""

    port: Port = 80
    demo: DemoBackendsSpec | None = None
    health_check_path: HttpPath | None = None


class PoolCheckSpec(Strict):
    """A pool's HTTP health check: GET `path`, healthy on `status`; a server is marked down
    after `fall` failures `interval` apart and up again after `rise` successes."""

    path: HttpPath
    status: Annotated[int, Field(ge=100, le=599)] = 200
    interval: Duration = "2s"
    rise: Annotated[int, Field(ge=1, le=100)] = 2
    fall: Annotated[int, Field(ge=1, le=100)] = 3


class PoolDemoSpec(Strict):
    """Demo web servers the bundle creates for this pool in every region."""

    count: Annotated[int, Field(ge=1, le=100)] = 2
    instance_type: InstanceType = "t3.micro"


class PoolSpec(Strict):
    """A named set of servers behind one HAProxy `backend`: demo servers (`demo`), or the
    existing servers each region lists under `regions[].pools.<name>`."""

    name: PoolName
    port: Port = 80
    # Omitted: `haproxy.balance`.
    balance: Literal["roundrobin", "leastconn", "source", "first", "random"] | None = None
    sticky_cookie: CookieName | None = None
    check: PoolCheckSpec | None = None
    # Ramp a server that comes (back) up from 0 to its full weight over this long.
    slow_start: Duration | None = None
    demo: PoolDemoSpec | None = None
    # TLS to the servers, verified against a CA bundle of top-level `tls.cas`.
    tls: PoolTlsSpec | None = None


class RouteSpec(Strict):
    """Requests for `host` (exact, or `*.example.com`) and/or under the path prefix `path` go
    to `pool`. Routes are tried in order; the first that matches wins."""

    host: RouteHost | None = None
    path: RoutePath | None = None
    pool: PoolName

    @model_validator(mode="after")
    def _matches_something(self) -> "RouteSpec":
        if self.host is None and self.path is None:
            raise ValueError(
                "a route needs `host`, `path` or both; requests no route matches go to the "
                "frontend's `default_pool`"
            )
        return self


class FrontendSpec(Strict):
    name: Identifier
    port: Port
    mode: Literal["http", "tcp"] = "http"
    # With top-level `pools`: tried in order (http frontends only), then `default_pool`.
    routes: Annotated[
        list[RouteSpec], Field(max_length=bounds.MAX_ROUTES, description=bounds.ROUTES)
    ] = []
    default_pool: PoolName | None = None
    # Terminate TLS here with certificates of top-level `tls` (http frontends only).
    tls: FrontendTlsSpec | None = None
    # Answer every request with a 301 to the same host, path and query over HTTPS (port 443).
    redirect_https: bool = False


class StatsSpec(Strict):
    port: Port = 8404
    cidrs: Annotated[
        list[Cidr], Field(min_length=1, max_length=bounds.MAX_CIDRS, description=bounds.STATS_CIDRS)
    ]


class TimeoutsSpec(Strict):
    connect: Duration = "5s"
    client: Duration = "30s"
    server: Duration = "30s"


class HAProxySpec(Strict):
    balance: Literal["roundrobin", "leastconn", "source", "first", "random"] = "roundrobin"
    sticky_cookie: CookieName | None = None
    maxconn: Annotated[int, Field(ge=100, le=2_000_000)] = 20000
    frontends: Annotated[
        list[FrontendSpec],
        Field(min_length=1, max_length=bounds.MAX_FRONTENDS, description=bounds.FRONTENDS),
    ] = [FrontendSpec(name="http", port=80)]
    timeouts: TimeoutsSpec = TimeoutsSpec()
    stats: StatsSpec | None = None


class CheckSpec(Strict):
    """A Keepalived health check. ``process`` checks a process by exact name; ``gateway``
    pings the default gateway (weight 0 means: FAULT while it fails, the split-brain guard)."""

    name: Identifier
    process: ProcessName | None = None
    gateway: bool = False
    interval: Annotated[int, Field(ge=1, le=3600)] = 2
    weight: Weight = 0
    fall: Annotated[int, Field(ge=1, le=255)] = 2
    rise: Annotated[int, Field(ge=1, le=255)] = 1

    @model_validator(mode="after")
    def _one_kind(self) -> "CheckSpec":
        if (self.process is None) == (not self.gateway):
            raise ValueError("a check needs exactly one of `process: NAME` or `gateway: true`")
        return self


class PriorityLadderSpec(Strict):
    """Each LB is MASTER (``master``) for its own EIP; the others back it up at ``backup``,
    ``backup - step``, ... in rotation, so the takeover order is fixed and tie-free."""

    # Defaults: a 2-point lead (the default checks' sshd -4 moves an EIP, and no scenario is
    # decided by 1 point) and 10-point rungs (two backups' takeover timers 39 ms apart, room
    # for 8 load balancers: 100 down to 40).
    master: Priority = 102
    backup: Priority = 100
    step: Annotated[int, Field(ge=1, le=50)] = 10


class KeepalivedSpec(Strict):
    vrrp_version: Annotated[Literal[2, 3], WholeNumber] = 2
    # Seconds between adverts. VRRPv2 takes whole seconds; VRRPv3 takes centiseconds (0.01-40.95).
    advert_int: Annotated[float, Field(ge=0.01, le=255)] = 1
    vrid_base: Annotated[int, Field(ge=1, le=255)] = 51
    priority: PriorityLadderSpec = PriorityLadderSpec()
    preempt_delay: Annotated[int, Field(ge=0, le=1000)] = 10
    # VRRPv2 PASS authentication; VRRPv3 has none. Default: on for v2.
    auth: bool | None = None
    # How `process` checks compile: `track_process` (netlink process events: immediate, no
    # fork per interval; needs the kernel's process connector, which a network namespace
    # lacks) or `script` (a pgrep every interval; works anywhere).
    process_checks: Literal["track_process", "script"] = "track_process"
    # While MASTER, re-assert the EIP every N seconds (0 = off): heals an association that an
    # API failure or a split brain left on the wrong node.
    reconcile_interval: Annotated[int, Field(ge=0, le=3600)] = 30
    # Omitted (null): hacompile's checks, which watch the flavor's HAProxy process, sshd and
    # the gateway; what they are is said once, in hacompile.spec.defaults (not a field default:
    # the HAProxy process name follows load_balancers.flavor).
    checks: (
        Annotated[list[CheckSpec], Field(max_length=bounds.MAX_CHECKS, description=bounds.CHECKS)]
        | None
    ) = None

    @field_validator("advert_int", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("advert_int is a number of seconds, not a boolean")
        return value


class AccessSpec(Strict):
    """How operators and Ansible reach the instances: SSH from `ssh_cidrs` (`management: ssh`),
    or SSH carried by SSM Session Manager (`management: ssm`: no inbound port at all, the
    instance role gets AmazonSSMManagedInstanceCore; the key pair still authenticates)."""

    management: Literal["ssh", "ssm"] = "ssh"
    ssh_key_name: KeyPairName
    ssh_cidrs: Annotated[
        list[Cidr], Field(max_length=bounds.MAX_CIDRS, description=bounds.SSH_CIDRS)
    ] = []
    ssh_user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")] = "ubuntu"

    @model_validator(mode="after")
    def _cidrs_match_management(self) -> "AccessSpec":
        if self.management == "ssh" and not self.ssh_cidrs:
            raise ValueError(
                "list `ssh_cidrs` (where SSH may come from), or set `management: ssm` to "
                "manage the instances through SSM Session Manager with no inbound SSH"
            )
        if self.management == "ssm" and self.ssh_cidrs:
            raise ValueError(
                "`management: ssm` opens no inbound SSH: remove `ssh_cidrs` (Session Manager "
                "carries SSH through the instance's own outbound connection)"
            )
        return self


class Spec(Strict):
    """One ha.yaml: a named cluster of active-active HAProxy load balancers per region."""

    version: Annotated[Literal[1], WholeNumber]
    name: ClusterName
    regions: Annotated[
        list[RegionSpec],
        Field(min_length=1, max_length=bounds.MAX_REGIONS, description=bounds.REGIONS),
    ]
    load_balancers: LoadBalancersSpec = LoadBalancersSpec()
    backends: BackendsSpec = BackendsSpec()
    # Omitted: one implicit pool, `backends` (its demo servers or `regions[].backends`).
    pools: Annotated[
        list[PoolSpec], Field(max_length=bounds.MAX_POOLS, description=bounds.POOLS)
    ] = []
    haproxy: HAProxySpec = HAProxySpec()
    keepalived: KeepalivedSpec = KeepalivedSpec()
    security: SecuritySpec = SecuritySpec()
    # Terraform state: local files in each region's root unless an S3 bucket is named.
    state: StateSpec | None = None
    # Route 53: one multivalue A record per EIP, each behind a health check of a frontend.
    dns: DnsSpec | None = None
    # Observability: HAProxy's Prometheus endpoint and request IDs in the logs.
    metrics: MetricsSpec | None = None
    logs: LogsSpec | None = None
    # Certificates (from Secrets Manager or SSM) for frontends with `tls`, CAs for pools'.
    tls: TlsSpec | None = None
    access: AccessSpec
    tags: Annotated[
        dict[TagKey, TagValue], Field(max_length=bounds.MAX_TAGS, description=bounds.TAGS)
    ] = {}
