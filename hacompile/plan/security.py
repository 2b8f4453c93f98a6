"""Egress rules and flow logs per region: what each security group may open, decided here.

Why not 0.0.0.0/0 for everything: a compromised load balancer holds public addresses and a
role that moves them; everything it may reach is what an intruder may reach. So each group
gets the destinations its tier needs, named, and nothing else:

- load balancers: the backends on their port (the demo backends' group, or each existing
  backend's address/32; a backend given by DNS name may resolve to anything in the VPC, so
  its port is opened to the VPC CIDR), VRRP (IP protocol 112) to the other load balancers,
  DNS to the VPC resolver (VPC base + 2), HTTPS anywhere (the EC2 API, which has no fixed
  addresses unless an EC2 VPC endpoint exists, and the package mirrors) and HTTP anywhere
  (the Ubuntu archive is served over HTTP, signed);
- demo backends: HTTP/HTTPS (packages) and DNS only.

Not filtered by security groups at all, so no rule is needed: the instance metadata service
and the Amazon Time Sync Service (169.254.169.254/.123). The two rules to 0.0.0.0/0 carry
their reason, which the template writes as an inline trivy ignore (AVD-AWS-0104).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from hacompile.plan import model as p
from hacompile.spec.model import Spec

ANYWHERE = "0.0.0.0/0"
HTTPS_WHY = (
    "the EC2 API (EIP moves) and the package mirrors have no fixed addresses; add an "
    "EC2 VPC endpoint and a mirror to close it"
)
MIRRORS_WHY = "the package mirrors have no fixed addresses; a mirror in the VPC would close it"
HTTP_WHY = "the Ubuntu archive serves its signed packages over plain HTTP"
OPEN_WHY = "security.egress.unrestricted is true in the spec"


def resolver(vpc_cidr: str) -> str:
    """The Amazon-provided DNS server of a VPC: its base address plus two."""
    return str(IPv4Address(int(IPv4Network(vpc_cidr).network_address) + 2))


def _common(vpc_cidr: str, *, ec2_api: bool, secrets: bool = False) -> tuple[p.EgressRule, ...]:
    """DNS and the mirrors for every tier; HTTPS also carries the EC2 API for the LBs and,
    with spec `tls`, Secrets Manager and SSM (the certificate sync).

    AWS exempts the Amazon resolver from security-group filtering, so the DNS rules change no
    packet: they state the dependency where a reviewer of the rules looks for it."""
    dns = f"{resolver(vpc_cidr)}/32"
    apis = [*(["EC2 API"] if ec2_api else []), *(["Secrets Manager/SSM"] if secrets else [])]
    https = f"HTTPS: {', '.join(apis)} and package mirrors" if apis else "HTTPS: package mirrors"
    return (
        p.EgressRule("dns_udp", "DNS to the VPC resolver", "udp", 53, 53, cidr=dns),
        p.EgressRule("dns_tcp", "DNS over TCP to the VPC resolver", "tcp", 53, 53, cidr=dns),
        p.EgressRule(
            "https",
            https,
            "tcp",
            443,
            443,
            cidr=ANYWHERE,
            internet=HTTPS_WHY if ec2_api else MIRRORS_WHY,
        ),
        p.EgressRule(
            "http", "HTTP: package mirrors", "tcp", 80, 80, cidr=ANYWHERE, internet=HTTP_WHY
        ),
    )


def _open() -> tuple[p.EgressRule, ...]:
    return (
        p.EgressRule(
            "all",
            "All traffic (security.egress.unrestricted)",
            "-1",
            cidr=ANYWHERE,
            internet=OPEN_WHY,
        ),
    )


def _backend_targets(region: p.Region) -> tuple[p.EgressRule, ...]:
    if region.demo_backends:
        port = region.servers[0].port if region.servers else 0
        return (
            p.EgressRule(
                "backends",
                "Demo backends on the backend port",
                "tcp",
                port,
                port,
                to_group="backend",
            ),
        )
    targets: dict[tuple[str, int], list[str]] = {}
    for server in region.servers:
        try:
            cidr = f"{IPv4Address(server.address)}/32"
            label = server.name
        except ValueError:  # a DNS name: HAProxy resolves it at start, somewhere in the VPC
            cidr = region.vpc_cidr
            label = f"{server.name} (DNS name: the VPC)"
        targets.setdefault((cidr, server.port), []).append(label)
    return tuple(
        p.EgressRule(
            f"backend{i + 1}",
            f"Backend {', '.join(labels)} port {port}",
            "tcp",
            port,
            port,
            cidr=cidr,
        )
        for i, ((cidr, port), labels) in enumerate(targets.items())
    )


def lb_egress(spec: Spec, region: p.Region) -> tuple[p.EgressRule, ...]:
    egress = spec.security.egress
    if egress.unrestricted:
        return _open()
    extra = tuple(
        p.EgressRule(
            f"allow{i + 1}",
            f"Allowed by the spec: {r.cidr} {r.protocol}/{r.port}",
            r.protocol,
            r.port,
            r.port,
            cidr=r.cidr,
            internet="listed in security.egress.allow" if r.cidr == ANYWHERE else "",
        )
        for i, r in enumerate(egress.allow)
    )
    vrrp = p.EgressRule("vrrp", "VRRP adverts to the other load balancers", "112", to_group="lb")
    if region.ec2_endpoint_service:  # the EC2 API at the endpoint; HTTPS anywhere: mirrors only
        endpoint = p.EgressRule(
            "ec2_endpoint", "HTTPS: the EC2 API endpoint", "tcp", 443, 443, to_group="ec2_endpoint"
        )
        common = (endpoint, *_common(region.vpc_cidr, ec2_api=False, secrets=bool(spec.tls)))
    else:
        common = _common(region.vpc_cidr, ec2_api=True, secrets=bool(spec.tls))
    return (*_backend_targets(region), vrrp, *common, *extra)


def backend_egress(spec: Spec, region: p.Region) -> tuple[p.EgressRule, ...]:
    if not region.demo_backends:
        return ()
    if spec.security.egress.unrestricted:
        return _open()
    return _common(region.vpc_cidr, ec2_api=False)


_PROTOCOL_WORDS = {"-1": "all", "112": "VRRP (112)"}
_GROUP_WORDS = {
    "lb": "the load balancers' group",
    "backend": "the demo backends' group",
    "ec2_endpoint": "the EC2 API endpoint's group",
}


def egress_table(region: p.Region) -> tuple[p.EgressRow, ...]:
    """The region's rules in words, for the bundle README."""
    return tuple(
        p.EgressRow(
            group=group,
            protocol=_PROTOCOL_WORDS.get(r.protocol, r.protocol),
            port=str(r.from_port) if r.protocol in ("tcp", "udp") else "",
            to=r.cidr or _GROUP_WORDS[r.to_group],
            description=r.description,
        )
        for group, rules in (
            ("load balancers", region.lb_egress),
            ("demo backends", region.backend_egress),
        )
        for r in rules
    )


def flow_logs_group(cluster: str, region_name: str) -> str:
    """The CloudWatch log group of a region's VPC flow logs."""
    return f"/hacompile/{cluster}/{region_name}/vpc-flow-logs"


def flow_logs(spec: Spec, region_name: str) -> p.FlowLogs:
    fl = spec.security.flow_logs
    if fl.destination == "cloudwatch":
        return p.FlowLogs(
            "cloudwatch",
            retention_days=fl.retention_days,
            log_group=flow_logs_group(spec.name, region_name),
        )
    if fl.destination == "s3":
        return p.FlowLogs("s3", s3_bucket_arn=fl.s3_bucket_arn or "")
    return p.FlowLogs("none")
