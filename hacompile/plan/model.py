"""The plan: frozen facts about the bundle, derived from a valid spec.

Templates may only format these values. Anything that needs a decision (addresses, priorities,
VRIDs, which process a check watches, which files exist) is decided in `hacompile.plan.build`,
where it can be unit-tested without rendering a single file.

The records are `hacompile.record.Record`s, as are the other values that pass between the
stages: NamedTuples to the type checker (immutable, hashable, compared by value like frozen
dataclasses) that cost a fraction of a NamedTuple, let alone a frozen dataclass, to define at
start-up (~10 us a class against ~100 us and ~0.8 ms; docs/performance.md). Change a copy with
`record._replace(field=value)`.
"""

from __future__ import annotations

from hacompile.record import Record

TERRAFORM_VERSION = ">= 1.6.0, < 2.0.0"
TERRAFORM_VERSION_LOCKFILE = ">= 1.10.0, < 2.0.0"


class Subnet(Record):
    key: str  # zone letter, e.g. "a": the for_each key in Terraform
    zone: str
    cidr: str
    id: str = ""  # an existing subnet (regions[].vpc_id); "": the bundle creates it


class VrrpInstance(Record):
    """One load balancer's side of one EIP's or private VIP's VRRP instance."""

    name: str  # eip1 ... the EIP it guards, or the VIP's name
    vrid: int
    priority: int
    master: bool
    slot_ip: str  # this LB's secondary private IP reserved for that EIP; "" for a VIP
    strategy: str = "eip"  # | route | secondary_ip: how hacompile-eip-claim moves it
    address: str = ""  # a VIP's address, which keepalived adds to the master's interface


class LoadBalancer(Record):
    key: str  # lb1 ...
    host: str  # inventory host name: <cluster>-<region>-lb1
    zone: str
    subnet_key: str
    private_ip: str
    slot_ips: tuple[str, ...]  # one per EIP of the region, in EIP order
    instances: tuple[VrrpInstance, ...]
    peers: tuple[str, ...]  # other LBs' management IPs (unicast peers)


class Eip(Record):
    key: str  # eip1 ...
    vrid: int
    master: str  # key of the LB that owns it while healthy


class Vip(Record):
    """A private virtual IP (spec regions[].vips, hacompile.plan.vips): its own VRRP instance
    on the load balancers holding it, moved by `strategy` when the master changes."""

    name: str  # the VRRP instance name, as the spec gave it
    strategy: str  # route | secondary_ip
    address: str
    vrid: int
    master: str  # key of the LB that owns it while healthy
    holders: tuple[str, ...]  # LB keys: the owner, then the takeover order
    # route: the existing tables the spec names; none: the bundle's own (own_route_table)
    route_tables: tuple[str, ...] = ()
    own_route_table: bool = False
    subnet_key: str = ""  # secondary_ip: the holders' subnet


class Server(Record):
    name: str
    address: str
    port: int
    subnet_key: str = ""  # demo backends only
    zone: str = ""
    host: str = ""
    # Named by DNS, not by an IPv4 address: HAProxy re-resolves it at run time (resolvers vpc).
    dns_name: bool = False
    pool: str = ""  # the named pool it serves in; "" for the implicit pool (no `pools`)


class EgressRule(Record):
    """One outbound rule of a security group, decided in hacompile.plan.security."""

    key: str  # Terraform resource name suffix: lb_egress_<key>
    description: str
    protocol: str  # tcp | udp | 112 | -1
    from_port: int = 0  # 0 with protocol 112 or -1: no ports
    to_port: int = 0
    cidr: str = ""  # either a CIDR ...
    to_group: str = ""  # ... or one of our security groups: lb | backend
    internet: str = ""  # why a rule to 0.0.0.0/0 is accepted (a trivy:ignore reason)


class EgressRow(Record):
    """One rule in words, a line of the README's egress table (hacompile.plan.security)."""

    group: str  # load balancers | demo backends
    protocol: str  # tcp | udp | VRRP (112) | all
    port: str  # "" where the protocol has no ports
    to: str  # a CIDR, or which of our security groups
    description: str


class FlowLogs(Record):
    destination: str  # cloudwatch | s3 | none
    retention_days: int = 0
    s3_bucket_arn: str = ""
    log_group: str = ""  # CloudWatch log group name


class Names(Record):
    """The names the bundle gives one region's resources, decided once (templates format)."""

    prefix: str  # "<cluster>-<region>-": inventory hosts, Name tags, the deployment tag value
    vpc: str  # "<cluster>-<region>": the VPC and internet gateway Name tags
    route_table: str  # "<cluster>-<region>-public"
    lb_group: str  # "<cluster>-lb": the load balancers' security group
    backend_group: str  # "<cluster>-backend": the demo backends' security group
    lb_role_prefix: str  # "<cluster>-lb-": name_prefix of the LB role and instance profile
    ec2_endpoint_group: str  # "<cluster>-ec2-endpoint": the EC2 endpoint's security group
    flow_logs_role_prefix: str  # "<cluster>-flow-logs-"


class DnsCheck(Record):
    """The Route 53 health check of each EIP (spec `dns.health_check`)."""

    type: str  # HTTP | TCP
    port: int
    path: str  # "" for TCP
    interval: int
    failure_threshold: int


class Dns(Record):
    """Route 53 records of the EIPs (spec `dns`): one multivalue A record per EIP on `name`."""

    zone_name: str  # "" when zone_id is given
    zone_id: str  # "" when the zone is looked up by name
    name: str
    ttl: int
    check: DnsCheck
    routing: str = "multivalue"  # | latency | failover (across regions)
    primary: str = ""  # failover: the region answered while healthy

    def record_name(self, region: str) -> str:
        """The name of a region's EIP records: `name` itself with multivalue routing, else
        the region's own set `<region>.<name>`, which `name` aliases."""
        return self.name if self.routing == "multivalue" else f"{region}.{self.name}"

    def failover_role(self, region: str) -> str:
        return "PRIMARY" if region == self.primary else "SECONDARY"

    @property
    def drop_seconds(self) -> int:
        """Worst case until no resolver still answers a dead EIP: the health check fails
        `failure_threshold` times `interval` apart, then cached answers live up to `ttl`."""
        return self.check.interval * self.check.failure_threshold + self.ttl


class StateBackend(Record):
    """A region root's S3 backend (spec `state.s3`): its own key, locked by a lock file."""

    bucket: str
    key: str  # <key_prefix>/<region>/terraform.tfstate
    region: str  # the bucket's region


class Region(Record):
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
    # security.ec2_endpoint: the interface endpoint's service ("" none), e.g.
    # com.amazonaws.eu-west-1.ec2
    ec2_endpoint_service: str = ""
    egress_table: tuple[EgressRow, ...] = ()  # lb_egress then backend_egress, in words
    state: StateBackend | None = None  # None: local state in the region's root
    vpc_id: str = ""  # an existing VPC: the bundle creates no VPC, gateway or route table
    security_groups: tuple[str, ...] = ()  # existing groups added to the load balancers
    vips: tuple[Vip, ...] = ()  # private virtual IPs, after the EIPs (VRIDs too)


class Check(Record):
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


class Flavor(Record):
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


class Acl(Record):
    """One HAProxy `acl` line of a routed frontend. A name given twice is true if either is."""

    name: str  # route<N>_host | route<N>_path
    criterion: str  # fetch, converters, match method and value, as HAProxy reads them


class Route(Record):
    pool: str
    condition: str  # the route's ACL names, all of which must match: "route1_host route1_path"
    host: str = ""  # as the spec wrote them, for the README
    path: str = ""


class Frontend(Record):
    name: str
    port: int
    mode: str
    # With named pools only (hacompile.plan.routing): in order, then the default pool.
    acls: tuple[Acl, ...] = ()
    routes: tuple[Route, ...] = ()
    default_pool: str = ""
    # TLS (hacompile.plan.tls): the certificate files bound, by SNI, the first the default
    crts: tuple[str, ...] = ()
    hsts: str = ""  # the Strict-Transport-Security value; "": none
    redirect_https: bool = False  # answers every request with a 301 to https://


class Pool(Record):
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
    tls_ca: str = ""  # the CA file servers are verified against; "": plain TCP to them
    tls_server_name: str = ""  # sent as SNI and required in the server's certificate


class HAProxy(Record):
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


class Keepalived(Record):
    vrrp_version: int
    advert_int: str  # formatted once here: "1" or "0.25"
    preempt_delay: int
    auth: bool
    process_checks: str  # track_process | script
    reconcile_interval: int
    checks: tuple[Check, ...]
    script_user: str


class EipClaim(Record):
    """The claim script's retry bounds (eip.env): the proof's timings add the budget."""

    attempts: int
    budget_seconds: int


class TlsFile(Record):
    """One PEM file every load balancer fetches from a secret store and installs at `path`."""

    name: str
    kind: str  # certificate (key, certificate, chain) | ca (CA certificates)
    store: str  # secretsmanager | ssm
    secret_id: str  # the secret's name (every region: a replica) or the parameter's
    names: tuple[str, ...]  # certificate: every name a version must cover to be installed
    path: str


class Tls(Record):
    """The spec's `tls` (hacompile.plan.tls); empty without it."""

    files: tuple[TlsFile, ...] = ()
    directory: str = ""
    refresh: str = ""  # the sync timer's interval, a Duration (systemd reads it as is)
    hard_stop_after: str = ""


class Observability(Record):
    """The spec's `metrics` and `logs` (hacompile.spec.observability); off when absent."""

    metrics_port: int = 0  # 0: no metrics endpoint
    metrics_cidrs: tuple[str, ...] = ()
    # Where the haproxy role installs the Lua service that serves /metrics/vrrp.
    metrics_lua_path: str = ""
    request_id_header: str = ""  # "": no request IDs (the logs section is absent)


class Plan(Record):
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
    # what the region roots declare as `required_version`: the S3 backend's lock file
    # (use_lockfile) needs Terraform 1.10
    terraform_version: str = TERRAFORM_VERSION
    # spec `state.s3`, the same bucket for every region ("": local state); keys per Region.state
    state_bucket: str = ""
    state_region: str = ""
    dns: Dns | None = None  # spec `dns`; None: no records
    # hacompile.manifest.spec_digest of the validated spec; "" unless built for a bundle
    spec_digest: str = ""
    observability: Observability = Observability()
    # access.management: "ssh" (from ssh_cidrs) | "ssm" (Session Manager; no inbound SSH)
    management: str = "ssh"
    tls: Tls = Tls()
