"""Compare what `terraform plan` computes with what the compiler planned.

Why: every address, port and for_each key in the bundle is decided once, by hacompile/plan/,
and written twice: into the Terraform modules (as literals and expressions Terraform
evaluates) and into the Ansible inventory that configures Keepalived and HAProxy. If the two
disagree, Keepalived peers an address no instance has, an EIP lands on a slot the ENI does
not carry, or a frontend listens on a port the security group blocks; each side is valid
alone. So Terraform's evaluated plan (`terraform show -json`) is checked against the
compiler's plan as the bundle records it for Ansible: `ansible/inventory/hacompile.yml`
(per region: each LB's management and slot IPs, its peers, the EIPs, the backends) and
`ansible/group_vars/lb.yml` (frontend, stats and metrics ports, stats and metrics CIDRs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from hacompile.record import Record

__all__ = ["CompilerRegion", "compare_plan", "compiler_regions"]

INVENTORY = "ansible/inventory/hacompile.yml"
LB_VARS = "ansible/group_vars/lb.yml"


class CompilerLb(Record):
    host: str
    private_ip: str
    slot_ips: frozenset[str]
    peers: frozenset[str]
    eips: frozenset[str]


class CompilerRegion(Record):
    """One region of the compiler's plan, read back from the bundle's Ansible side."""

    name: str
    lbs: Mapping[str, CompilerLb]  # lb1 -> ...
    servers: Mapping[str, tuple[str, int]]  # HAProxy server name -> (address, port)
    demo_backends: Mapping[str, int]  # web1 -> port (backends the bundle creates)
    frontends: Mapping[str, int]  # frontend name -> port
    stats_port: int
    stats_cidrs: frozenset[str]
    metrics_port: int = 0
    metrics_cidrs: frozenset[str] = frozenset()


def _yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def _eip_instances(host_vars: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The host's VRRP instances that guard an EIP: a private VIP's (regions[].vips) has a
    strategy other than eip, or no slot IP, and no aws_eip or secondary IP of its own."""
    return [
        i
        for i in host_vars.get("keepalived_instances") or []
        if str(i.get("strategy") or "eip") == "eip" and i.get("slot_ip")
    ]


def compiler_regions(bundle: Path) -> dict[str, CompilerRegion]:
    """Region name -> the compiler's plan for it, from the bundle's inventory and group vars."""
    inventory = _yaml(bundle / INVENTORY)["all"]
    lb_vars = _yaml(bundle / LB_VARS)
    cluster = str(inventory["vars"]["hacompile_cluster"])
    frontends = {str(f["name"]): int(f["port"]) for f in lb_vars.get("haproxy_frontends") or []}
    regions = {}
    for slug, group in (inventory.get("children") or {}).items():
        region = (group.get("vars") or {}).get("hacompile_region") if group else None
        if not region:
            continue  # the `lb` and `backend` umbrella groups
        prefix = f"{cluster}-{region}-"
        children = group.get("children") or {}
        lb_hosts = (children.get(f"{slug}_lb") or {}).get("hosts") or {}
        lbs = {
            str(host).removeprefix(prefix): CompilerLb(
                str(host),
                str(hv["keepalived_unicast_src_ip"]),
                frozenset(str(i["slot_ip"]) for i in _eip_instances(hv)),
                frozenset(str(p) for p in hv.get("keepalived_unicast_peers") or []),
                frozenset(str(i["name"]) for i in _eip_instances(hv)),
            )
            for host, hv in lb_hosts.items()
        }
        web_hosts = (children.get(f"{slug}_backend") or {}).get("hosts") or {}
        servers = group["vars"].get("haproxy_backend", {}).get("servers") or []
        regions[str(region)] = CompilerRegion(
            str(region),
            lbs,
            {str(s["name"]): (str(s["address"]), int(s["port"])) for s in servers},
            {
                str(h).removeprefix(prefix): int((hv or {}).get("demo_backend_port", 0))
                for h, hv in web_hosts.items()
            },
            frontends,
            int(lb_vars.get("haproxy_stats_port") or 0),
            frozenset(str(c) for c in lb_vars.get("haproxy_stats_cidrs") or []),
            int(lb_vars.get("haproxy_metrics_port") or 0),
            frozenset(str(c) for c in lb_vars.get("haproxy_metrics_cidrs") or []),
        )
    return regions


class _Comparison:
    def __init__(self, plan: Mapping[str, Any]) -> None:
        self.findings: list[str] = []
        self.compared = 0
        self.by_type: dict[str, dict[str, Mapping[str, Any]]] = {}
        root = (plan.get("planned_values") or {}).get("root_module") or {}
        for res in _managed(root):
            key = f"{res['type']}.{res['name']}"
            index = str(res.get("index", ""))
            self.by_type.setdefault(key, {})[index] = res.get("values") or {}
        # data sources read during the plan (an existing VPC and its subnets) are in prior_state
        prior = ((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
        for res in _managed(prior, mode="data"):
            key = f"data.{res['type']}.{res['name']}"
            index = str(res.get("index", ""))
            self.by_type.setdefault(key, {})[index] = res.get("values") or {}
        self.plan = plan

    def instances(self, address: str) -> dict[str, Mapping[str, Any]]:
        return self.by_type.get(address, {})

    def same(self, what: str, planned: Any, compiled: Any, source: str) -> None:
        self.compared += 1
        if planned != compiled:
            self.findings.append(
                f"{what} is {_show(planned)} in the plan, but the compiler "
                f"planned {_show(compiled)} ({source})"
            )

    def keys(self, address: str, compiled: Iterable[str], source: str) -> None:
        self.same(
            f"for_each keys of {address}", sorted(self.instances(address)), sorted(compiled), source
        )


def _managed(module: Mapping[str, Any], mode: str = "managed") -> Iterable[Mapping[str, Any]]:
    """The resources (or data sources) of a planned module and of the modules it calls (a
    region's root holds none itself: they are all in module.ha); a region root calls one
    module, so type.name stays unique."""
    for res in module.get("resources") or []:
        if res.get("mode") == mode:
            yield res
    for child in module.get("child_modules") or []:
        yield from _managed(child, mode)


def _show(value: Any) -> str:
    if value is None:
        return "unknown or null"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _address(address: str, key: str) -> str:
    return f'{address}["{key}"]' if key else address


def compare_plan(plan: Mapping[str, Any], region: CompilerRegion) -> tuple[list[str], int]:
    """Findings where the plan differs from the compiler's plan, and how many values matched
    or not. `plan` is `terraform show -json` of the region module's plan."""
    c = _Comparison(plan)
    region_expr = (
        ((plan.get("configuration") or {}).get("provider_config") or {})
        .get("aws", {})
        .get("expressions", {})
        .get("region", {})
    )
    c.same('provider "aws" region', region_expr.get("constant_value"), region.name, INVENTORY)
    _load_balancers(c, region)
    _backends(c, region)
    _ports(c, region)
    _cidrs(c, region)
    return c.findings, c.compared


def _load_balancers(c: _Comparison, region: CompilerRegion) -> None:
    c.keys("aws_instance.lb", region.lbs, INVENTORY)
    planned = c.instances("aws_instance.lb")
    eips = set().union(*(lb.eips for lb in region.lbs.values()))
    c.keys("aws_eip.service", eips, f"{INVENTORY}, keepalived_instances")
    for address in ("aws_route53_record.eip", "aws_route53_health_check.eip"):
        if c.instances(address):  # spec `dns`: one record and one health check per EIP
            c.keys(address, eips, f"{INVENTORY}, keepalived_instances")
    for key, lb in sorted(region.lbs.items()):
        values = planned.get(key)
        if values is None:
            continue
        where = _address("aws_instance.lb", key)
        c.same(
            f"{where}.private_ip",
            values.get("private_ip"),
            lb.private_ip,
            f"keepalived_unicast_src_ip of {lb.host}",
        )
        slots = values.get("secondary_private_ips")
        c.same(
            f"{where}.secondary_private_ips",
            sorted(slots) if slots is not None else None,
            sorted(lb.slot_ips),
            f"slot_ip of {lb.host}'s keepalived_instances",
        )
        others = sorted(str(v.get("private_ip")) for k, v in planned.items() if k != key)
        c.same(
            f"the other load balancers' private_ip (peers of {where})",
            others,
            sorted(lb.peers),
            f"keepalived_unicast_peers of {lb.host}",
        )


def _backends(c: _Comparison, region: CompilerRegion) -> None:
    if not region.demo_backends and not c.instances("aws_instance.backend"):
        return
    c.keys("aws_instance.backend", region.demo_backends, f"{INVENTORY}, backend hosts")
    for key, values in sorted(c.instances("aws_instance.backend").items()):
        if key in region.servers:
            c.same(
                f"{_address('aws_instance.backend', key)}.private_ip",
                values.get("private_ip"),
                region.servers[key][0],
                f"haproxy_backend server {key}",
            )
    rule = c.instances("aws_vpc_security_group_ingress_rule.backend_from_lb").get("", {})
    for key, port in sorted(region.demo_backends.items()):
        for end in ("from_port", "to_port"):
            c.same(
                f"aws_vpc_security_group_ingress_rule.backend_from_lb.{end}",
                rule.get(end),
                port,
                f"demo_backend_port of backend {key}",
            )


def _ports(c: _Comparison, region: CompilerRegion) -> None:
    frontend = "aws_vpc_security_group_ingress_rule.lb_frontend"
    c.keys(frontend, region.frontends, f"{LB_VARS}, haproxy_frontends")
    for name, values in sorted(c.instances(frontend).items()):
        if name in region.frontends:
            for end in ("from_port", "to_port"):
                c.same(
                    f"{_address(frontend, name)}.{end}",
                    values.get(end),
                    region.frontends[name],
                    f"{LB_VARS}, port of frontend {name}",
                )
    _cidr_rules(c, "lb_stats", region.stats_port, region.stats_cidrs, "haproxy_stats")
    _cidr_rules(c, "lb_metrics", region.metrics_port, region.metrics_cidrs, "haproxy_metrics")


def _cidr_rules(c: _Comparison, name: str, port: int, cidrs: frozenset[str], var: str) -> None:
    """One ingress rule per CIDR (none when `port` is 0), each on exactly `port`."""
    address = f"aws_vpc_security_group_ingress_rule.{name}"
    c.keys(address, cidrs if port else frozenset(), f"{LB_VARS}, {var}_cidrs")
    for cidr, values in sorted(c.instances(address).items()):
        c.same(
            f"{_address(address, cidr)}.cidr_ipv4",
            values.get("cidr_ipv4"),
            cidr,
            f"{LB_VARS}, {var}_cidrs",
        )
        for end in ("from_port", "to_port"):
            c.same(
                f"{_address(address, cidr)}.{end}",
                values.get(end),
                port,
                f"{LB_VARS}, {var}_port",
            )


def _network(text: Any) -> IPv4Network | None:
    try:
        net = ip_network(str(text))
    except ValueError:
        return None
    return net if isinstance(net, IPv4Network) else None


def _cidrs(c: _Comparison, region: CompilerRegion) -> None:
    """The compiler's addresses must lie where Terraform puts the networks."""
    # the VPC and subnets the root creates, or the existing ones it reads (regions[].vpc_id)
    vpcs = c.instances("aws_vpc.main") or c.instances("data.aws_vpc.existing")
    vpc = _network(next(iter(vpcs.values()), {}).get("cidr_block"))
    subnet_values = c.instances("aws_subnet.public") or c.instances("data.aws_subnet.existing")
    subnets = {k: _network(v.get("cidr_block")) for k, v in subnet_values.items()}
    nets = {k: n for k, n in subnets.items() if n is not None}
    for key, net in sorted(nets.items()):
        c.compared += 1
        if vpc is not None and not net.subnet_of(vpc):
            c.findings.append(
                f'aws_subnet.public["{key}"].cidr_block {net} is not inside '
                f"aws_vpc.main.cidr_block {vpc}"
            )
    addresses = [(f"{lb.host} management IP", lb.private_ip, lb.host) for lb in region.lbs.values()]
    addresses += [
        (f"{lb.host} slot IP", ip, lb.host)
        for lb in region.lbs.values()
        for ip in sorted(lb.slot_ips)
    ]
    addresses += [
        (f"demo backend {k}", region.servers[k][0], k)
        for k in region.demo_backends
        if k in region.servers
    ]
    home: dict[str, set[str]] = {}
    for what, text, owner in addresses:
        c.compared += 1
        addr = ip_address(text)
        inside = [k for k, net in nets.items() if isinstance(addr, IPv4Address) and addr in net]
        if not inside:
            c.findings.append(
                f"{what} {text} (from {INVENTORY}) is in no planned subnet "
                f"(aws_subnet.public: {', '.join(map(str, nets.values()))})"
            )
        home.setdefault(owner, set()).update(inside)
    for owner, keys in sorted(home.items()):
        if len(keys) > 1:
            c.findings.append(
                f"{owner}'s addresses span subnets {sorted(keys)}; an ENI's "
                "addresses must all be in its one subnet"
            )
