"""The Terraform module's interface, and what each region's root passes to it.

Why one module: every region of a bundle builds the same things (a VPC, subnets, security
groups, the load balancers' role, the instances and the EIPs); only values differ. So the
bundle holds one module, terraform/modules/haproxy-ha/, and per region a thin root that
configures the provider and calls the module with that region's values. A reviewer reads
the resources once; a change to them shows up once in a diff; an SRE can call the module from
their own root. The module is still rendered per bundle: a feature no region of the spec uses
(demo backends, a stats page, flow logs, an AMI lookup) has neither inputs nor resources.

This file is the single source of the interface: `variables.tf` (types, descriptions,
validation) and the module README's tables are formatted from `inputs`/`OUTPUTS`, and each
root's `main.tf` from `arguments`. Validation conditions are Terraform expressions written
here as text; they check each input on its own (what Terraform 1.6 allows), and the module's
resources check how inputs fit together with lifecycle preconditions.
"""

from __future__ import annotations

from hacompile.plan.model import EgressRule, Plan, Region
from hacompile.plan.module_features import feature_inputs
from hacompile.plan.module_inputs import (
    Argument,
    Expr,
    Input,
    Output,
    base_inputs,
    uses_ec2_endpoint,
    uses_existing_network,
    uses_flow_logs,
)
from hacompile.plan.module_vips import (
    OWN_TABLE_POLICY,
    uses_own_route_table,
    uses_route_vips,
    uses_secondary_ip_vips,
    uses_vips,
    vip_failover_argument,
    vip_routes_value,
)
from hacompile.record import Record

__all__ = [
    "CALL",
    "NAME",
    "OUTPUTS",
    "SOURCE",
    "Argument",
    "Expr",
    "Input",
    "Module",
    "arguments",
    "inputs",
    "module",
]

NAME = "haproxy-ha"
SOURCE = f"../modules/{NAME}"  # as a region root (terraform/<region>/) names it
CALL = "ha"  # the module block's label in each root
# The resources an existing VPC makes unnecessary: `count`ed in a bundle where some region
# brings its own network (so a region of that bundle creating its VPC holds them at [0]).
COUNTED_WITH_EXISTING_NETWORK = frozenset(
    {
        "aws_vpc.main",
        "aws_default_security_group.default",
        "aws_internet_gateway.main",
        "aws_route_table.public",
        "aws_route.internet",
    }
)


def inputs(plan: Plan) -> tuple[Input, ...]:
    """The module's variables for this bundle, in the order variables.tf declares them."""
    return (*base_inputs(plan), *feature_inputs(plan))


OUTPUTS: tuple[Output, ...] = (
    Output(
        "ansible_inventory",
        "Ansible inventory (YAML plugin, JSON form) with the IDs the EIP scripts need.",
    ),
    Output("eips", "Public addresses to publish in DNS, by EIP."),
    Output("load_balancers", "Management address (SSH) of each load balancer."),
)


def _dns_value(plan: Plan, region: Region) -> dict[str, object]:
    dns = plan.dns
    if dns is None:
        return {}
    check: dict[str, object] = {"type": dns.check.type, "port": dns.check.port}
    if dns.check.path:
        check["path"] = dns.check.path
    check |= {"interval": dns.check.interval, "failure_threshold": dns.check.failure_threshold}
    zone = {"zone_id": dns.zone_id} if dns.zone_id else {"zone_name": dns.zone_name}
    routed: dict[str, object] = {}
    if dns.routing != "multivalue":
        routed = {"record_name": dns.record_name(region.name), "routing": dns.routing}
        if dns.routing == "failover":
            routed["failover"] = dns.failover_role(region.name)
        else:
            routed["latency_region"] = region.name
    return zone | {"name": dns.name, "ttl": dns.ttl, "health_check": check} | routed


def _egress_value(rules: tuple[EgressRule, ...]) -> dict[str, dict[str, object]]:
    """Rules as the module's egress map: ports only where the protocol has them, and exactly
    one of cidr and to_group (the module's validation says the same)."""
    out: dict[str, dict[str, object]] = {}
    for rule in rules:
        value: dict[str, object] = {"description": rule.description, "protocol": rule.protocol}
        if rule.protocol in ("tcp", "udp"):
            value |= {"from_port": rule.from_port, "to_port": rule.to_port}
        if rule.to_group:
            value["to_group"] = rule.to_group
        else:
            value["cidr"] = rule.cidr
        out[rule.key] = value
    return out


def arguments(plan: Plan, region: Region) -> tuple[Argument, ...]:
    """What `region`'s root passes to the module: one Argument per input, in `inputs` order.
    The AMI IDs and the key pair are the root's own variables (a user may override them per
    region without editing generated files); the policies are the JSON files beside the root."""
    names: dict[str, object] = {
        "vpc": region.names.vpc,
        "route_table": region.names.route_table,
        "lb_group": region.names.lb_group,
        "lb_role_prefix": region.names.lb_role_prefix,
    }
    values: dict[str, object] = {
        "name": plan.name,
        "name_prefix": region.names.prefix,
        "names": names,
        "inventory_group": region.slug,
        "deployment_tag_key": plan.deployment_tag_key,
        "vpc_cidr": region.vpc_cidr,
        "subnets": {
            s.key: {"zone": s.zone, "cidr": s.cidr} | ({"id": s.id} if s.id else {})
            for s in region.subnets
        },
        "vpc_id": region.vpc_id or None,
        "security_group_ids": list(region.security_groups),
        "load_balancers": {
            lb.key: {
                "subnet": lb.subnet_key,
                "private_ip": lb.private_ip,
                "slot_ips": list(lb.slot_ips),
            }
            for lb in region.load_balancers
        },
        "eips": [eip.key for eip in region.eips],
        "instance_type": plan.lb_instance_type,
        "root_volume_gb": plan.root_volume_gb,
        "ssh_key_name": Expr("var.ssh_key_name"),
        "ssh_cidrs": list(plan.ssh_cidrs),
        "lb_ami_id": Expr("var.lb_ami_id") if not region.ami_id else region.ami_id,
        "lb_ami_filter": {
            "owner": plan.flavor.ami_owner,
            "name": plan.flavor.ami_name,
            "architecture": plan.lb_arch,
        }
        | ({"product_code": plan.flavor.ami_product_code} if plan.flavor.ami_product_code else {}),
        "frontends": {fe.name: fe.port for fe in plan.haproxy.frontends},
        "stats": {"port": plan.haproxy.stats_port, "cidrs": list(plan.haproxy.stats_cidrs)},
        "metrics": {
            "port": plan.observability.metrics_port,
            "cidrs": list(plan.observability.metrics_cidrs),
        },
        "lb_egress": _egress_value(region.lb_egress),
        "ec2_endpoint_service": region.ec2_endpoint_service,
        "dns": _dns_value(plan, region),
        "eip_failover_policy": Expr('file("${path.module}/policies/eip-failover.json")'),
        "vip_routes": vip_routes_value(region),
        "vip_failover_policy": vip_failover_argument(region),
        "ssm_managed_policy_arn": f"arn:{plan.partition}:iam::aws:policy/"
        "AmazonSSMManagedInstanceCore",
        "tls_read_policy": Expr(
            'templatefile("${path.module}/policies/tls-read.json.tftpl", '
            "{ account_id = data.aws_caller_identity.current.account_id })"
        ),
        "flow_logs": {
            "log_group": region.flow_logs.log_group,
            "retention_days": region.flow_logs.retention_days,
            "assume_role_policy": Expr(
                'templatefile("${path.module}/policies/flow-logs-assume-role.json.tftpl", '
                "{ account_id = data.aws_caller_identity.current.account_id })"
            ),
            "delivery_policy": Expr('file("${path.module}/policies/flow-logs-delivery.json")'),
        },
        "flow_logs_bucket_arn": region.flow_logs.s3_bucket_arn,
        "backends": {
            s.name: {"subnet": s.subnet_key, "private_ip": s.address} for s in region.servers
        },
        "backend_port": plan.backend_port,
        "backend_instance_type": plan.backend_instance_type,
        "backend_ami_id": Expr("var.backend_ami_id"),
        "backend_ami_filter": {
            "owner": plan.backend_ami_owner,
            "name": plan.backend_ami_name,
            "architecture": plan.backend_arch,
        },
        "backend_egress": _egress_value(region.backend_egress),
    }
    if region.demo_backends:
        names["backend_group"] = region.names.backend_group
    if region.flow_logs.destination == "cloudwatch":
        names["flow_logs_role_prefix"] = region.names.flow_logs_role_prefix
    if region.ec2_endpoint_service:
        names["ec2_endpoint_group"] = region.names.ec2_endpoint_group
    return tuple(
        Argument(i.name, values[i.name])
        for i in inputs(plan)
        if not (i.nullable_default or i.list_default)
        or values[i.name]
        or isinstance(values[i.name], Expr)
    )


class Module(Record):
    """What the module's templates format: its interface and the features this bundle uses."""

    name: str
    source: str
    call: str  # the module block's label in each root: module.<call>.<output>
    inputs: tuple[Input, ...]
    outputs_list: tuple[Output, ...]
    outputs: dict[str, str]  # output name -> description
    demo_backends: bool
    stats: bool
    metrics: bool
    flow_logs_cloudwatch: bool
    flow_logs_s3: bool
    ami_lookup: bool
    ami_product_code: bool
    ec2_endpoint: bool
    dns: bool
    tls: bool  # the role may read the spec's certificates (spec `tls`)
    ssm: bool  # managed through SSM Session Manager (access.management: ssm)
    # the instance attribute Ansible connects to: the public IP, or with ssm the instance ID
    # (Session Manager's target)
    lb_ansible_host: str
    dns_zone_lookup: bool
    # dns.routing across regions: each region's EIPs on <region>.<name>, which an alias record
    # on the name answers by latency or failover
    dns_routed: bool
    dns_latency: bool
    dns_record_key: str  # the var.dns key the EIP records are named by: name | record_name
    existing_network: bool  # some region deploys into an existing VPC (regions[].vpc_id)
    # how the module names its one VPC, gateway and route table: "[0]" when they are counted
    # (a region may bring its own network), "" otherwise
    created_index: str  # the zone is given by name: a data source finds its ID
    # private VIPs (regions[].vips, hacompile.plan.module_vips): some region has any; a route
    # VIP; one on the module's own route table; a secondary_ip VIP
    vips: bool = False
    route_vips: bool = False
    own_route_table_vips: bool = False
    secondary_ip_vips: bool = False
    own_table_policy: str = ""  # the module's policy template for its own route table


def module(plan: Plan) -> Module:
    return Module(
        name=NAME,
        source=SOURCE,
        call=CALL,
        inputs=inputs(plan),
        outputs_list=OUTPUTS,
        outputs={o.name: o.description for o in OUTPUTS},
        demo_backends=any(r.demo_backends for r in plan.regions),
        stats=bool(plan.haproxy.stats_port),
        metrics=bool(plan.observability.metrics_port),
        flow_logs_cloudwatch=uses_flow_logs("cloudwatch", plan),
        flow_logs_s3=uses_flow_logs("s3", plan),
        ami_lookup=plan.any_ami_lookup,
        ami_product_code=plan.any_ami_lookup and bool(plan.flavor.ami_product_code),
        ec2_endpoint=uses_ec2_endpoint(plan),
        dns=plan.dns is not None,
        tls=bool(plan.tls.files),
        ssm=plan.management == "ssm",
        lb_ansible_host="id" if plan.management == "ssm" else "public_ip",
        dns_latency=plan.dns is not None and plan.dns.routing == "latency",
        dns_routed=plan.dns is not None and plan.dns.routing != "multivalue",
        dns_record_key=(
            "record_name" if plan.dns is not None and plan.dns.routing != "multivalue" else "name"
        ),
        dns_zone_lookup=plan.dns is not None and not plan.dns.zone_id,
        existing_network=uses_existing_network(plan),
        created_index="[0]" if uses_existing_network(plan) else "",
        vips=uses_vips(plan),
        route_vips=uses_route_vips(plan),
        own_route_table_vips=uses_own_route_table(plan),
        secondary_ip_vips=uses_secondary_ip_vips(plan),
        own_table_policy=OWN_TABLE_POLICY if uses_own_route_table(plan) else "",
    )
