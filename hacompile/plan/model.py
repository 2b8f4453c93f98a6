"""The plan: frozen facts about the bundle, derived from a valid spec.

Templates may only format these values. Anything that needs a decision (addresses, priorities,
VRIDs, which process a check watches, which files exist) is decided in `hacompile.plan.build`,
where it can be unit-tested without rendering a single file.

The records are `NamedTuple`s, as are the other values that pass between the stages: immutable,
hashable and compared by value like frozen dataclasses, and about six times cheaper to define.
On Python 3.11 a frozen dataclass compiles each of its generated methods from source when the
class is created (~0.8 ms a class); the ~40 records every `validate` or `build` imports cost
~30 ms of a ~280 ms run that way (docs/performance.md). Change a copy with
`record._replace(field=value)`.
"""

from __future__ import annotations

from typing import NamedTuple


class Subnet(NamedTuple):
    key: str  # zone letter, e.g. "a": the for_each key in Terraform
    zone: str
    cidr: str


class VrrpInstance(NamedTuple):
    """One load balancer's side of one EIP's VRRP instance."""

    name: str  # eip1 ... the EIP it guards
    vrid: int
    priority: int
    master: bool
    slot_ip: str  # this LB's secondary private IP reserved for that EIP


class LoadBalancer(NamedTuple):
    key: str  # lb1 ...
    host: str  # inventory host name: <cluster>-<region>-lb1
    zone: str
    subnet_key: str
    private_ip: str
    slot_ips: tuple[str, ...]  # one per EIP of the region, in EIP order
    instances: tuple[VrrpInstance, ...]
    peers: tuple[str, ...]  # other LBs' management IPs (unicast peers)


class Eip(NamedTuple):
    key: str  # eip1 ...
    vrid: int
    master: str  # key of the LB that owns it while healthy


class Server(NamedTuple):
    name: str
    address: str
    port: int
    subnet_key: str = ""  # demo backends only
    zone: str = ""
    host: str = ""
    # Named by DNS, not by an IPv4 address: HAProxy re-resolves it at run time (resolvers vpc).
    dns_name: bool = False
    pool: str = ""  # the named pool it serves in; "" for the implicit pool (no `pools`)


class EgressRule(NamedTuple):
    """One outbound rule of a security group, decided in hacompile.plan.security."""

    key: str  # Terraform resource name suffix: lb_egress_<key>
    description: str
    protocol: str  # tcp | udp | 112 | -1
    from_port: int = 0  # 0 with protocol 112 or -1: no ports
    to_port: int = 0
    cidr: str = ""  # either a CIDR ...
    to_group: str = ""  # ... or one of our security groups: lb | backend
    internet: str = ""  # why a rule to 0.0.0.0/0 is accepted (a trivy:ignore reason)


class EgressRow(NamedTuple):
    """One rule in words, a line of the README's egress table (hacompile.plan.security)."""

    group: str  # load balancers | demo backends
    protocol: str  # tcp | udp | VRRP (112) | all
    port: str  # "" where the protocol has no ports
    to: str  # a CIDR, or which of our security groups
    description: str


class FlowLogs(NamedTuple):
    destination: str  # cloudwatch | s3 | none
    retention_days: int = 0
    s3_bucket_arn: str = ""
    log_group: str = ""  # CloudWatch log group name


class Names(NamedTuple):
    """The names the bundle gives one region's resources, decided once (templates format)."""

    prefix: str  # "<cluster>-<region>-": inventory hosts, Name tags, the deployment tag value
    vpc: str  # "<cluster>-<region>": the VPC and internet gateway Name tags
    route_table: str  # "<cluster>-<region>-public"
    lb_group: str  # "<cluster>-lb": the load balancers' security group
    backend_group: str  # "<cluster>-backend": the demo backends' security group
    lb_role_prefix: str  # "<cluster>-lb-": name_prefix of the LB role and instance profile
    flow_logs_role_prefix: str  # "<cluster>-flow-logs-"


class Region(NamedTuple):
    name: str
    slug: str  # us_east_1: Ansible group names take no dashes
    vpc_cidr: str
    subnets: tuple[Subnet, ...]
    load_balancers: tuple[LoadBalancer, ...]
    eips: tuple[Eip, ...]
    servers: tuple[Server, ...]
    demo_backends: bool
    names: Names
    ami_id: str = ""  # pinned load balancer AMI: "" looks the image up
    flow_logs: FlowLogs = FlowLogs("none")
    lb_egress: tuple[EgressRule, ...] = ()
    backend_egress: tuple[EgressRule, ...] = ()
    egress_table: tuple[EgressRow, ...] = ()  # lb_egress then backend_egress, in words


class Check(NamedTuple):
    name: str
    kind: str  # process | gateway
    process: str
    interval: int
    weight: int
    fall: int
    rise: int
    timeout: int = 0  # vrrp_script timeout (s): keepalived kills a run that takes longer
    watch_ms: int = 0  # how long hacompile-check-process watches the process (script mode)
    # `process` as the regular expression script mode hands to `pgrep -x`: each `.` as `[.]`,
    # so it matches the same process as track_process's exact name (not `sleep` for `sl..p`).
    pattern: str = ""
    # How keepalived runs it: "script" (a vrrp_script named in track_script) or "process" (a
    # vrrp_track_process named in track_process); process checks in track_process mode only.
    track: str = "script"

    @property
    def down_after(self) -> int:
        """Seconds of failure before the check counts as down: `fall` failed runs `interval`
        apart (a vrrp_script's fall x interval; a vrrp_track_process's `delay`)."""
        return self.interval * self.fall


class Flavor(NamedTuple):
    """What differs between community HAProxy on Ubuntu and the HAProxy Enterprise AMI."""

    name: str  # community | hapee
    ami_owner: str
    ami_name: str
    ami_product_code: str  # hapee: the Marketplace product filter; community: ""
    haproxy_package: str  # empty: shipped on the AMI
    haproxy_service: str
    haproxy_config: str
    haproxy_binary: str
    haproxy_process: str
    haproxy_user: str
    haproxy_group: str
    haproxy_socket: str
    keepalived_package: str
    keepalived_service: str
    keepalived_config: str
    keepalived_binary: str
    label: str  # "HAProxy Enterprise" | "HAProxy (Ubuntu 24.04)": what the README calls it
    image_label: str  # the image the AMI lookup picks, in words
    version: str  # hapee: load_balancers.hapee_version; community: ""


class Acl(NamedTuple):
    """One HAProxy `acl` line of a routed frontend. A name given twice is true if either is."""

    name: str  # route<N>_host | route<N>_path
    criterion: str  # fetch, converters, match method and value, as HAProxy reads them


class Route(NamedTuple):
    pool: str
    condition: str  # the route's ACL names, all of which must match: "route1_host route1_path"
    host: str = ""  # as the spec wrote them, for the README
    path: str = ""


class Frontend(NamedTuple):
    name: str
    port: int
    mode: str
    # With named pools only (hacompile.plan.routing): in order, then the default pool.
    acls: tuple[Acl, ...] = ()
    routes: tuple[Route, ...] = ()
    default_pool: str = ""


class Pool(NamedTuple):
    """One named pool: an HAProxy `backend` (its servers are each region's `servers` whose
    `pool` is this name)."""

    name: str
    mode: str  # http | tcp: that of the frontends routing to it
    port: int
    balance: str
    sticky_cookie: str
    check_path: str  # "": a TCP connect check
    check_status: int
    check_interval: str
    check_rise: int
    check_fall: int
    slow_start: str  # "": none
    demo: bool


class HAProxy(NamedTuple):
    balance: str
    sticky_cookie: str
    maxconn: int
    frontends: tuple[Frontend, ...]
    timeout_connect: str
    timeout_client: str
    timeout_server: str
    health_check_path: str
    stats_port: int  # 0: no stats page
    stats_cidrs: tuple[str, ...]
    pools: tuple[Pool, ...] = ()  # named pools; () is the implicit single pool


class Keepalived(NamedTuple):
    vrrp_version: int
    advert_int: str  # formatted once here: "1" or "0.25"
    preempt_delay: int
    auth: bool
    process_checks: str  # track_process | script
    reconcile_interval: int
    checks: tuple[Check, ...]
    script_user: str


class EipClaim(NamedTuple):
    """The claim script's retry bounds (eip.env): the proof's timings add the budget."""

    attempts: int
    budget_seconds: int


class Plan(NamedTuple):
    name: str
    spec_file: str
    hacompile_version: str
    regions: tuple[Region, ...]
    flavor: Flavor
    lb_instance_type: str
    lb_arch: str
    root_volume_gb: int
    backend_instance_type: str
    backend_arch: str
    backend_port: int
    haproxy: HAProxy
    keepalived: Keepalived
    ssh_key_name: str
    ssh_cidrs: tuple[str, ...]
    ssh_user: str
    tags: tuple[tuple[str, str], ...]  # sorted; always includes the hacompile cluster tag
    cluster_tag_key: str
    deployment_tag_key: str  # its value names one deployment: the IAM scope (plan/iam.py)
    partition: str  # aws, aws-us-gov: the first field of every ARN
    eip_claim: EipClaim  # hacompile.plan.build.EIP_CLAIM
    backend_ami_owner: str  # the demo backends' Ubuntu lookup (hacompile.plan.amis)
    backend_ami_name: str
    any_ami_lookup: bool  # some region looks its load balancer AMI up (no ami_id)
    # security.flow_logs, the same in every region; log_group with "<region>" for the region
    flow_logs: FlowLogs
    vrrp_ssm_prefix: str  # where the VRRP passwords live, with "<region>" for the region
    spec_digest: str = ""  # hacompile.manifest.spec_digest of the validated spec
