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


class Expr(Record):
    """A Terraform expression a root passes as is (a `file()` call, a root variable): fixed
    text chosen here, never spec input, so it needs no escaping."""

    text: str


class Validation(Record):
    condition: str
    message: str


class Input(Record):
    name: str
    type: str  # a Terraform type constraint
    description: str
    validations: tuple[Validation, ...] = ()
    nullable_default: bool = False  # `default = null`: optional, the module decides


class Output(Record):
    name: str
    description: str


class Argument(Record):
    name: str
    value: object  # plain data (formatted by hacompile.render.hcl) or an Expr


_CIDR = "can(cidrnetmask({x}))"
_IPV4 = 'can(cidrnetmask("${{{x}}}/32"))'
_PORT = "{x} >= 1 && {x} <= 65535 && floor({x}) == {x}"
_KEY = 'can(regex("^[a-z0-9_]+$", {x}))'
_JSON = "can(jsondecode({x}))"

_EGRESS_TYPE = (
    "map(object({ description = string, protocol = string, from_port = optional(number), "
    "to_port = optional(number), cidr = optional(string), to_group = optional(string) }))"
)


def _egress(group: str, words: str, groups: tuple[str, ...]) -> Input:
    """`groups`: the module's security groups of this bundle, which a rule's to_group names."""
    x = f"var.{group}_egress"
    quoted = [f'"{g}"' for g in groups]
    named = " or ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)
    listed = ", ".join(quoted)
    return Input(
        f"{group}_egress",
        _EGRESS_TYPE,
        f"Outbound rules of the {words}' security group, by rule name: to a CIDR or to one of "
        f"the module's groups (to_group {named}); protocol tcp, udp, 112 (VRRP) or -1 (all; "
        "no ports).",
        (
            Validation(
                f"alltrue([for k, r in {x} : {_KEY.format(x='k')}])",
                "Rule names are lower-case letters, digits and underscores.",
            ),
            Validation(
                f'alltrue([for r in values({x}) : contains(["tcp", "udp", "112", "-1"], '
                "r.protocol)])",
                "protocol is tcp, udp, 112 or -1.",
            ),
            Validation(
                f"alltrue([for r in values({x}) : (r.cidr == null) != (r.to_group == null)])",
                "Each rule names exactly one of cidr and to_group.",
            ),
            Validation(
                f"alltrue([for r in values({x}) : r.cidr == null ? true : "
                f"{_CIDR.format(x='r.cidr')}])",
                "cidr is an IPv4 CIDR block.",
            ),
            Validation(
                f"alltrue([for r in values({x}) : r.to_group == null ? true : "
                f"contains([{listed}], r.to_group)])",
                f"to_group is {named}.",
            ),
            Validation(
                f'alltrue([for r in values({x}) : contains(["tcp", "udp"], r.protocol) == '
                "(r.from_port != null && r.to_port != null)])",
                "tcp and udp rules have from_port and to_port; 112 and -1 have none.",
            ),
        ),
    )


def inputs(plan: Plan) -> tuple[Input, ...]:
    """The module's variables for this bundle, in the order variables.tf declares them."""
    demo = any(r.demo_backends for r in plan.regions)
    found: list[Input] = [
        Input(
            "name",
            "string",
            "The deployment's name (the spec's `name`): descriptions and subnet Name tags.",
            (Validation('can(regex("^[a-z][a-z0-9-]*$", var.name))', "A DNS label."),),
        ),
        Input(
            "name_prefix",
            "string",
            "Prefix of every Name tag, inventory host and deployment tag value: "
            '"<name>-<region>-".',
            (Validation('can(regex("^[a-z][a-z0-9-]*-$", var.name_prefix))', 'Ends in "-".'),),
        ),
        Input(
            "names",
            "object({ vpc = string, route_table = string, lb_group = string, "
            "lb_role_prefix = string"
            + (", backend_group = string" if demo else "")
            + (", flow_logs_role_prefix = string" if _flow("cloudwatch", plan) else "")
            + (", ec2_endpoint_group = string" if _endpoint(plan) else "")
            + " })",
            "Names (and IAM name prefixes) of the VPC, route table, security groups and roles.",
        ),
        Input(
            "inventory_group",
            "string",
            "Ansible group of this region in the ansible_inventory output (no dashes).",
            (Validation(_KEY.format(x="var.inventory_group"), "Letters, digits, underscores."),),
        ),
        Input(
            "deployment_tag_key",
            "string",
            "Tag whose value names this deployment: the EIPs, the load balancers' interfaces "
            "and their role carry it, and the role may move only EIPs between interfaces that "
            "carry its own value.",
        ),
        Input(
            "vpc_cidr",
            "string",
            "IPv4 CIDR block of the VPC the module creates.",
            (Validation(_CIDR.format(x="var.vpc_cidr"), "An IPv4 CIDR block."),),
        ),
        Input(
            "subnets",
            "map(object({ zone = string, cidr = string }))",
            "One public subnet per availability zone, by key (the zone's letter).",
            (
                Validation(
                    "length(var.subnets) >= 2",
                    "At least two zones: one zone is one failure domain.",
                ),
                Validation(
                    f"alltrue([for s in values(var.subnets) : {_CIDR.format(x='s.cidr')}])",
                    "Each subnet's cidr is an IPv4 CIDR block.",
                ),
            ),
        ),
        Input(
            "load_balancers",
            "map(object({ subnet = string, private_ip = string, slot_ips = list(string) }))",
            "The load balancers by key: their subnet key, primary private IP (management and "
            "VRRP) and one secondary private IP per EIP, in EIP order (where that EIP lands "
            "while this node holds it). Keepalived's configuration names these addresses.",
            (
                Validation("length(var.load_balancers) >= 2", "At least two load balancers."),
                Validation(
                    f"alltrue(flatten([for lb in values(var.load_balancers) : "
                    f"[for ip in concat([lb.private_ip], lb.slot_ips) : "
                    f"{_IPV4.format(x='ip')}]]))",
                    "Addresses are IPv4 addresses.",
                ),
            ),
        ),
        Input(
            "eips",
            "list(string)",
            "Keys of the Elastic IPs, one VRRP instance each. Allocated here, associated only "
            "by Keepalived's notify scripts.",
            (
                Validation("length(var.eips) >= 1", "At least one EIP."),
                Validation(
                    f"alltrue([for k in var.eips : {_KEY.format(x='k')}])",
                    "Letters, digits, underscores.",
                ),
            ),
        ),
        Input(
            "instance_type",
            "string",
            "EC2 instance type of the load balancers.",
            (
                Validation(
                    'can(regex("^[a-z0-9-]+\\\\.[a-z0-9]+$", var.instance_type))',
                    'An instance type such as "t3.small".',
                ),
            ),
        ),
        Input(
            "root_volume_gb",
            "number",
            "Size of each load balancer's encrypted gp3 root volume, in GiB.",
            (
                Validation(
                    "var.root_volume_gb >= 8 && var.root_volume_gb <= 1024 && "
                    "floor(var.root_volume_gb) == var.root_volume_gb",
                    "A whole number of GiB from 8 to 1024.",
                ),
            ),
        ),
        Input("ssh_key_name", "string", "Existing EC2 key pair for SSH to the instances."),
        Input(
            "ssh_cidrs",
            "list(string)",
            "Where SSH to the instances may come from.",
            (
                Validation(
                    f"alltrue([for c in var.ssh_cidrs : {_CIDR.format(x='c')}])",
                    "IPv4 CIDR blocks.",
                ),
            ),
        ),
    ]
    if plan.any_ami_lookup:
        found += [
            Input(
                "lb_ami_id",
                "string",
                "AMI of the load balancers; null looks up the newest image lb_ami_filter names.",
                nullable_default=True,
            ),
            Input(
                "lb_ami_filter",
                "object({ owner = string, name = string, architecture = string"
                + (", product_code = string" if plan.flavor.ami_product_code else "")
                + " })",
                "The AMI lookup when lb_ami_id is null: owner account or alias, name pattern, "
                "architecture"
                + (" and Marketplace product code" if plan.flavor.ami_product_code else "")
                + ".",
            ),
        ]
    else:
        found.append(Input("lb_ami_id", "string", "AMI of the load balancers."))
    found.append(
        Input(
            "frontends",
            "map(number)",
            "TCP port of each HAProxy frontend, by name: open to anywhere.",
            (
                Validation(
                    f"alltrue([for port in values(var.frontends) : {_PORT.format(x='port')}])",
                    "Ports from 1 to 65535.",
                ),
            ),
        )
    )
    if plan.haproxy.stats_port:
        found.append(
            Input(
                "stats",
                "object({ port = number, cidrs = list(string) })",
                "HAProxy's stats page: its port, open only to these CIDR blocks.",
                (
                    Validation(_PORT.format(x="var.stats.port"), "A port from 1 to 65535."),
                    Validation(
                        f"alltrue([for c in var.stats.cidrs : {_CIDR.format(x='c')}])",
                        "IPv4 CIDR blocks.",
                    ),
                ),
            )
        )
    groups = ("lb", *(["backend"] if demo else []), *(["ec2_endpoint"] if _endpoint(plan) else []))
    found.append(_egress("lb", "load balancers", groups))
    if plan.dns is not None:
        found.append(
            Input(
                "dns",
                "object({ zone_id = optional(string), zone_name = optional(string), "
                "name = string, ttl = number, health_check = object({ type = string, "
                "port = number, path = optional(string), interval = number, "
                "failure_threshold = number }) })",
                "Route 53: one multivalue A record per EIP on `name`, in the public zone "
                "zone_id (or looked up by zone_name), each answered only while its health "
                "check (HTTP path or TCP connect to a frontend port) passes.",
                (
                    Validation(
                        "(var.dns.zone_id == null) != (var.dns.zone_name == null)",
                        "Give exactly one of zone_id and zone_name.",
                    ),
                    Validation(
                        'contains(["HTTP", "TCP"], var.dns.health_check.type)',
                        "health_check.type is HTTP or TCP.",
                    ),
                    Validation(
                        "contains([10, 30], var.dns.health_check.interval)",
                        "Route 53 checks every 10 or 30 seconds.",
                    ),
                    Validation(
                        "var.dns.ttl >= 1 && var.dns.ttl <= 86400",
                        "ttl is from 1 to 86400 seconds.",
                    ),
                ),
            )
        )
    if _endpoint(plan):
        found.append(
            Input(
                "ec2_endpoint_service",
                "string",
                "Service name of the interface VPC endpoint for the EC2 API in the load "
                "balancers' subnets (private DNS on: the EIP claim reaches EC2 without the "
                "internet path).",
                (
                    Validation(
                        'can(regex("^com\\\\.amazonaws\\\\.[a-z0-9-]+\\\\.ec2$", '
                        "var.ec2_endpoint_service))",
                        'A service name such as "com.amazonaws.eu-west-1.ec2".',
                    ),
                ),
            )
        )
    found.append(
        Input(
            "eip_failover_policy",
            "string",
            "The load balancers' only permission (IAM policy JSON): move this deployment's "
            "EIPs between this deployment's interfaces.",
            (Validation(_JSON.format(x="var.eip_failover_policy"), "A JSON document."),),
        )
    )
    if _flow("cloudwatch", plan):
        found.append(
            Input(
                "flow_logs",
                "object({ log_group = string, retention_days = number, "
                "assume_role_policy = string, delivery_policy = string })",
                "VPC flow logs to CloudWatch Logs: the log group, its retention, and the "
                "delivery role's trust and permission policies (JSON).",
                (
                    Validation(
                        "contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, "
                        "731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], "
                        "var.flow_logs.retention_days)",
                        "A retention CloudWatch Logs offers.",
                    ),
                    Validation(_JSON.format(x="var.flow_logs.delivery_policy"), "A JSON document."),
                ),
            )
        )
    if _flow("s3", plan):
        found.append(
            Input(
                "flow_logs_bucket_arn",
                "string",
                "ARN of the S3 bucket VPC flow logs are delivered to.",
                (
                    Validation(
                        'can(regex("^arn:[a-z-]+:s3:::", var.flow_logs_bucket_arn))',
                        "An S3 bucket ARN.",
                    ),
                ),
            )
        )
    if demo:
        found += [
            Input(
                "backends",
                "map(object({ subnet = string, private_ip = string }))",
                "Demo web backends by name: their subnet key and private IP.",
                (
                    Validation(
                        f"alltrue([for b in values(var.backends) : "
                        f"{_IPV4.format(x='b.private_ip')}])",
                        "Addresses are IPv4 addresses.",
                    ),
                ),
            ),
            Input(
                "backend_port",
                "number",
                "Port the demo backends serve on: open to the load balancers only.",
                (Validation(_PORT.format(x="var.backend_port"), "A port from 1 to 65535."),),
            ),
            Input("backend_instance_type", "string", "EC2 instance type of the demo backends."),
            Input(
                "backend_ami_id",
                "string",
                "AMI of the demo backends; null looks up the newest image backend_ami_filter "
                "names.",
                nullable_default=True,
            ),
            Input(
                "backend_ami_filter",
                "object({ owner = string, name = string, architecture = string })",
                "The demo backends' AMI lookup when backend_ami_id is null.",
            ),
            _egress("backend", "demo backends", groups),
        ]
    return tuple(found)


OUTPUTS: tuple[Output, ...] = (
    Output(
        "ansible_inventory",
        "Ansible inventory (YAML plugin, JSON form) with the IDs the EIP scripts need.",
    ),
    Output("eips", "Public addresses to publish in DNS, by EIP."),
    Output("load_balancers", "Management address (SSH) of each load balancer."),
)


def _dns_value(plan: Plan) -> dict[str, object]:
    dns = plan.dns
    if dns is None:
        return {}
    check: dict[str, object] = {"type": dns.check.type, "port": dns.check.port}
    if dns.check.path:
        check["path"] = dns.check.path
    check |= {"interval": dns.check.interval, "failure_threshold": dns.check.failure_threshold}
    zone = {"zone_id": dns.zone_id} if dns.zone_id else {"zone_name": dns.zone_name}
    return zone | {"name": dns.name, "ttl": dns.ttl, "health_check": check}


def _endpoint(plan: Plan) -> bool:
    return any(r.ec2_endpoint_service for r in plan.regions)


def _flow(destination: str, plan: Plan) -> bool:
    return any(r.flow_logs.destination == destination for r in plan.regions)


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
        "subnets": {s.key: {"zone": s.zone, "cidr": s.cidr} for s in region.subnets},
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
        "lb_egress": _egress_value(region.lb_egress),
        "ec2_endpoint_service": region.ec2_endpoint_service,
        "dns": _dns_value(plan),
        "eip_failover_policy": Expr('file("${path.module}/policies/eip-failover.json")'),
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
    return tuple(Argument(i.name, values[i.name]) for i in inputs(plan))


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
    flow_logs_cloudwatch: bool
    flow_logs_s3: bool
    ami_lookup: bool
    ami_product_code: bool
    ec2_endpoint: bool
    dns: bool
    dns_zone_lookup: bool  # the zone is given by name: a data source finds its ID


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
        flow_logs_cloudwatch=_flow("cloudwatch", plan),
        flow_logs_s3=_flow("s3", plan),
        ami_lookup=plan.any_ami_lookup,
        ami_product_code=plan.any_ami_lookup and bool(plan.flavor.ami_product_code),
        ec2_endpoint=_endpoint(plan),
        dns=plan.dns is not None,
        dns_zone_lookup=plan.dns is not None and not plan.dns.zone_id,
    )
