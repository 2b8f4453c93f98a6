"""Derive the frozen `Plan` from a validated `Spec`.

The decisions live here, in one readable place:
- load balancer k sits in zone k mod Z; its management IP and one slot IP per EIP come from
  `hacompile.spec.network`, so unicast peers and HAProxy servers are known at compile time;
- EIP k belongs to LB k (MASTER at `priority.master`); the others back it up in rotation order
  k+1, k+2, ... at `backup`, `backup - step`, ...: a fixed, tie-free takeover order;
- every VRRP instance starts in BACKUP so that `preempt_delay` is legal and a rebooted master
  waits for its checks before it takes its EIP back.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from hacompile import __version__
from hacompile.plan import amis, optional, routing, security, tls, vips
from hacompile.plan import model as p
from hacompile.spec import defaults, instances, network, pools
from hacompile.spec.model import CheckSpec, PoolDemoSpec, Spec

CLUSTER_TAG = "hacompile:cluster"
# One deployment (cluster, region, Terraform state): the tag the instance role's EIP moves are
# scoped by. Its value ends in an ID Terraform generates once (terraform_data), so two
# clusters of the same name in one account and region never match each other (plan/iam.py).
DEPLOYMENT_TAG = "hacompile:deployment"
SCRIPT_USER = "hacompile-vrrp"
# hacompile-eip-claim's retry bounds, written into every eip.env: at most this many
# associate-address attempts within this many seconds. The failover proof adds the budget to
# every takeover (hacompile.failover.timing).
EIP_CLAIM = p.EipClaim(attempts=8, budget_seconds=60)
# How the README names "each region" inside a per-region path.
ANY_REGION = "<region>"


def vrrp_ssm_prefix(cluster: str, region: str) -> str:
    """The SSM Parameter Store path under which the keepalived role keeps a region's VRRP
    passwords (one parameter per instance): the role's keepalived_ssm_prefix default."""
    return f"/hacompile/{cluster}/{region}/vrrp"


def build_plan(spec: Spec, spec_file: str, *, digest: bool = True) -> p.Plan:
    """The plan of a valid spec. `digest=False` leaves `spec_digest` empty: only a bundle's
    manifest records it, and hashing the spec imports json and hashlib, ~2.5 ms of every
    `validate` and `explain`, which write no bundle (docs/performance.md)."""
    flavor = _flavor(spec)
    demo = _demo(spec)
    tls_plan = tls.tls(spec, flavor)
    return p.Plan(
        name=spec.name,
        spec_file=spec_file,
        hacompile_version=__version__,
        regions=tuple(_region(spec, i) for i in range(len(spec.regions))),
        flavor=flavor,
        lb_instance_type=spec.load_balancers.instance_type,
        lb_arch=instances.architecture(spec.load_balancers.instance_type),
        root_volume_gb=spec.load_balancers.root_volume_gb,
        backend_instance_type=demo.instance_type if demo else "",
        backend_arch=instances.architecture(demo.instance_type) if demo else "",
        backend_port=_backend_port(spec),
        haproxy=_haproxy(spec, tls_plan.directory),
        keepalived=_keepalived(spec, flavor),
        ssh_key_name=spec.access.ssh_key_name,
        ssh_cidrs=tuple(spec.access.ssh_cidrs),
        ssh_user=spec.access.ssh_user,
        management=spec.access.management,
        tags=tuple(sorted({**spec.tags, CLUSTER_TAG: spec.name}.items())),
        cluster_tag_key=CLUSTER_TAG,
        deployment_tag_key=DEPLOYMENT_TAG,
        partition="aws-us-gov" if any("-gov-" in r.name for r in spec.regions) else "aws",
        eip_claim=EIP_CLAIM,
        backend_ami_owner=amis.CANONICAL_OWNER,
        backend_ami_name=amis.ubuntu_noble_name("*"),
        any_ami_lookup=any(not r.ami_id for r in spec.regions),
        flow_logs=security.flow_logs(spec, ANY_REGION),
        vrrp_ssm_prefix=vrrp_ssm_prefix(spec.name, ANY_REGION),
        terraform_version=p.TERRAFORM_VERSION_LOCKFILE if spec.state else p.TERRAFORM_VERSION,
        state_bucket=spec.state.s3.bucket if spec.state else "",
        state_region=spec.state.s3.region if spec.state else "",
        dns=optional.dns(spec),
        spec_digest=_digest(spec) if digest else "",
        observability=optional.observability(spec, flavor),
        tls=tls_plan,
    )


def _digest(spec: Spec) -> str:
    from hacompile import manifest  # json and hashlib: for the commands that write a bundle

    # only what the spec sets: a field hacompile adds later, with a default, leaves the digest
    # (and so the bundle) of a spec that does not use it unchanged; spelling out a default
    # means the same spec
    return manifest.spec_digest(spec.model_dump(mode="json", exclude_defaults=True))


def _region(spec: Spec, index: int) -> p.Region:
    region = spec.regions[index]
    subnet_nets = network.subnets(region)
    subnets = tuple(
        p.Subnet(key=zone.name[-1], zone=zone.name, cidr=str(net), id=zone.subnet_id or "")
        for zone, net in zip(region.zones, subnet_nets, strict=True)
    )
    n = spec.load_balancers.count
    zones = len(subnets)
    ka = spec.keepalived
    eips = tuple(
        p.Eip(key=f"eip{k + 1}", vrid=ka.vrid_base + k, master=f"lb{k + 1}") for k in range(n)
    )
    names = _names(spec.name, region.name)
    planned_vips = vips.vips(spec, index, subnets)
    placed: list[tuple[int, str, tuple[str, ...]]] = []
    per_subnet: dict[int, int] = {}
    for k in range(n):
        zi = network.lb_zone_index(k, zones)
        ordinal = per_subnet.get(zi, 0)
        per_subnet[zi] = ordinal + 1
        mgmt, slot_addrs = network.lb_addresses(subnet_nets[zi], ordinal, n, network.taken(region))
        placed.append((zi, str(mgmt), tuple(str(s) for s in slot_addrs)))
    lbs = []
    for k, (zi, primary, slots) in enumerate(placed):
        instances_ = tuple(
            p.VrrpInstance(
                name=eip.key,
                vrid=eip.vrid,
                priority=_priority(spec, owner=e, lb=k, count=n),
                master=e == k,
                slot_ip=slots[e],
            )
            for e, eip in enumerate(eips)
        ) + vips.instances(spec, f"lb{k + 1}", planned_vips)
        lbs.append(
            p.LoadBalancer(
                key=f"lb{k + 1}",
                host=f"{names.prefix}lb{k + 1}",
                zone=subnets[zi].zone,
                subnet_key=subnets[zi].key,
                private_ip=primary,
                slot_ips=slots,
                instances=instances_,
                peers=tuple(other[1] for j, other in enumerate(placed) if j != k),
            )
        )
    planned = p.Region(
        name=region.name,
        slug=region.name.replace("-", "_"),
        vpc_cidr=region.vpc_cidr,
        subnets=subnets,
        load_balancers=tuple(lbs),
        eips=eips,
        servers=_servers(spec, index, subnet_nets, subnets),
        demo_backends=_demo(spec) is not None,
        names=names,
        ami_id=region.ami_id or "",
        flow_logs=security.flow_logs(spec, region.name),
        state=optional.state(spec, region.name),
        vpc_id=region.vpc_id or "",
        security_groups=tuple(region.security_groups),
        vips=planned_vips,
        ec2_endpoint_service=f"com.amazonaws.{region.name}.ec2"
        if spec.security.ec2_endpoint
        else "",
    )
    planned = planned._replace(
        lb_egress=security.lb_egress(spec, planned),
        backend_egress=security.backend_egress(spec, planned),
    )
    return planned._replace(egress_table=security.egress_table(planned))


def _names(cluster: str, region: str) -> p.Names:
    return p.Names(
        prefix=f"{cluster}-{region}-",
        vpc=f"{cluster}-{region}",
        route_table=f"{cluster}-{region}-public",
        lb_group=f"{cluster}-lb",
        backend_group=f"{cluster}-backend",
        lb_role_prefix=f"{cluster}-lb-",
        ec2_endpoint_group=f"{cluster}-ec2-endpoint",
        flow_logs_role_prefix=f"{cluster}-flow-logs-",
    )


def _priority(spec: Spec, *, owner: int, lb: int, count: int) -> int:
    """MASTER priority for the owner; backups step down in rotation order after the owner."""
    ladder = spec.keepalived.priority
    if lb == owner:
        return ladder.master
    rank = (lb - owner) % count  # 1 = first to take over
    return ladder.backup - ladder.step * (rank - 1)


def _servers(
    spec: Spec, index: int, nets: tuple[IPv4Network, ...], subnets: tuple[p.Subnet, ...]
) -> tuple[p.Server, ...]:
    region = spec.regions[index]
    port = _backend_port(spec)
    listed = [("", b, port) for b in region.backends] + [
        (pool.name, b, pool.port)
        for pool in spec.pools
        for b in region.pools.get(pool.name, [])
        if pool.demo is None
    ]
    out = [
        p.Server(
            name=b.name,
            address=b.address,
            port=b.port or default,
            dns_name=not is_ipv4(b.address),
            pool=pool,
        )
        for pool, b, default in listed
    ]
    n = spec.load_balancers.count
    offset = network.backend_offset(-(-n // len(nets)), n)
    for b, demo in enumerate(pools.demo_servers(spec)):
        zi = b % len(nets)
        address = network.backend_address(
            nets[zi], offset, b // len(nets), network.taken(spec.regions[index])
        )
        out.append(
            p.Server(
                name=demo.name,
                address=str(address),
                port=port,
                subnet_key=subnets[zi].key,
                zone=subnets[zi].zone,
                host=f"{_names(spec.name, region.name).prefix}{demo.name}",
                pool=demo.pool,
            )
        )
    return tuple(out)


def _demo(spec: Spec) -> PoolDemoSpec | None:
    """The demo servers' settings: `backends.demo`, or the demo pools' (one instance type and
    port for all, hacompile.spec.routes)."""
    if not spec.pools:
        demo = spec.backends.demo
        return PoolDemoSpec(count=demo.count, instance_type=demo.instance_type) if demo else None
    return next((pool.demo for pool in spec.pools if pool.demo), None)


def _backend_port(spec: Spec) -> int:
    """The demo servers' port (the one their security group opens), else the default port of
    listed servers: `backends.port`, or the first demo pool's."""
    return next((pool.port for pool in spec.pools if pool.demo), spec.backends.port)


def _flavor(spec: Spec) -> p.Flavor:
    lbs = spec.load_balancers
    if lbs.flavor == "hapee":
        v = lbs.hapee_version
        return p.Flavor(
            name="hapee",
            ami_owner=amis.MARKETPLACE_OWNER,
            ami_name=f"hapee-ubuntu-*-amd64-hvm-{v}*",
            ami_product_code=amis.hapee_product_code(v, lbs.ami_product_code),
            haproxy_package="",
            haproxy_service=f"hapee-{v}-lb",
            haproxy_config=f"/etc/hapee-{v}/hapee-lb.cfg",
            haproxy_binary=f"/opt/hapee-{v}/sbin/hapee-lb",
            haproxy_process="hapee-lb",
            haproxy_user="hapee-lb",
            haproxy_group="hapee",
            haproxy_socket=f"/var/run/hapee-{v}/hapee-lb.sock",
            keepalived_package="",
            keepalived_service="hapee-extras-vrrp",
            keepalived_config="/etc/hapee-extras/hapee-vrrp.cfg",
            keepalived_binary="/opt/hapee-extras/sbin/hapee-vrrp",
            label="HAProxy Enterprise",
            image_label="HAProxy Enterprise Marketplace",
            version=v,
        )
    arch = "arm64" if instances.architecture(lbs.instance_type) == "arm64" else "amd64"
    return p.Flavor(
        name="community",
        ami_owner=amis.CANONICAL_OWNER,
        ami_name=amis.ubuntu_noble_name(arch),
        ami_product_code="",
        haproxy_package="haproxy",
        haproxy_service="haproxy",
        haproxy_config="/etc/haproxy/haproxy.cfg",
        haproxy_binary="/usr/sbin/haproxy",
        haproxy_process="haproxy",
        haproxy_user="haproxy",
        haproxy_group="haproxy",
        haproxy_socket="/run/haproxy/admin.sock",
        keepalived_package="keepalived",
        keepalived_service="keepalived",
        keepalived_config="/etc/keepalived/keepalived.conf",
        keepalived_binary="/usr/sbin/keepalived",
        label="HAProxy (Ubuntu 24.04)",
        image_label="Ubuntu 24.04 LTS",
        version="",
    )


def _haproxy(spec: Spec, tls_dir: str) -> p.HAProxy:
    hap = spec.haproxy
    return p.HAProxy(
        balance=hap.balance,
        sticky_cookie=hap.sticky_cookie or "",
        maxconn=hap.maxconn,
        frontends=tuple(routing.frontend(spec, f, tls_dir) for f in hap.frontends),
        timeout_connect=hap.timeouts.connect,
        timeout_client=hap.timeouts.client,
        timeout_server=hap.timeouts.server,
        health_check_path=spec.backends.health_check_path or "",
        stats_port=hap.stats.port if hap.stats else 0,
        stats_cidrs=tuple(hap.stats.cidrs) if hap.stats else (),
        pools=routing.pools(spec, tls_dir),
    )


# hacompile-check-process watches the process until just before keepalived's next run (a death is
# seen at once) and then exits: WATCH_GAP_MS before the next whole-second run is what starting
# sh, pgrep, timeout and tail may take on a busy host. A run still going when the next is due is
# skipped by keepalived ("expect idle - skipping run"), not failed; a run over `timeout` is
# killed and counts as a FAILURE, so the timeout sits CHECK_MARGIN_S beyond the watch. (Found on
# a booted host at load 3 on two vCPUs: a 850 ms watch in a 1 s timeout timed out, and with
# weight 0 every instance went FAULT.) keepalived 2.2 takes whole seconds for both.
# The margin is 3 s, not 1: a check runs in Keepalived's own cgroup (its session in the lab)
# beside the notify hook's claim, whose AWS CLI processes take 2-5 s of CPU each on a busy host;
# in the busy lab runs checks overran their one-second interval 2-8 times per run ("skipping
# run"), while the check alone under the same load took at most 0.82 s. Two such runs over a
# 2 s timeout put a healthy node in FAULT and moved its EIP away for rise + preempt_delay (the
# three-LB ping-pong: 24 s). A longer timeout delays nothing a check is for: a dead process
# ends the watch at once, and only a check that hangs counts as failed 2 s later.
WATCH_CAP_S = 2
WATCH_GAP_MS = 300
CHECK_MARGIN_S = 3


def check_watch_ms(interval: int) -> int:
    return max(0, min(interval, WATCH_CAP_S) * 1000 - WATCH_GAP_MS)


def process_pattern(name: str) -> str:
    """`name` as a POSIX extended regular expression matching only itself, for `pgrep -x`.
    ProcessName admits letters, digits, `_`, `-` and `.`; of those only `.` is special, and
    `[.]` needs no backslash, which keepalived's script parser would eat."""
    return name.replace(".", "[.]")


def is_ipv4(address: str) -> bool:
    """Whether a backend address is an IPv4 address (else the spec admitted it as a DNS name)."""
    try:
        IPv4Address(address)
    except ValueError:
        return False
    return True


def check_track(kind: str, process_checks: str) -> str:
    """How keepalived tracks a check: a process check as a vrrp_track_process when the spec's
    keepalived.process_checks says track_process, every other check as a vrrp_script."""
    return "process" if kind == "process" and process_checks == "track_process" else "script"


def check_timeout(interval: int) -> int:
    return min(interval, WATCH_CAP_S) + CHECK_MARGIN_S


def _keepalived(spec: Spec, flavor: p.Flavor) -> p.Keepalived:
    ka = spec.keepalived
    advert = float(ka.advert_int)
    return p.Keepalived(
        vrrp_version=ka.vrrp_version,
        advert_int=str(int(advert)) if advert.is_integer() else f"{advert:.2f}".rstrip("0"),
        preempt_delay=ka.preempt_delay,
        auth=ka.auth if ka.auth is not None else ka.vrrp_version == 2,
        process_checks=ka.process_checks,
        reconcile_interval=ka.reconcile_interval,
        checks=tuple(
            _check(c, ka.process_checks)
            for c in defaults.checks_in_force(ka, flavor.haproxy_process)
        ),
        script_user=SCRIPT_USER,
    )


def _check(c: CheckSpec, process_checks: str) -> p.Check:
    kind = "gateway" if c.gateway else "process"
    return p.Check(
        name=c.name,
        kind=kind,
        process=c.process or "",
        interval=c.interval,
        weight=c.weight,
        fall=c.fall,
        rise=c.rise,
        timeout=check_timeout(c.interval),
        watch_ms=check_watch_ms(c.interval),
        pattern=process_pattern(c.process or ""),
        track=check_track(kind, process_checks),
    )
