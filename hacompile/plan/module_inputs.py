"""The module's interface as data: its records, and the inputs every bundle's module has.

Why here and not in variables.tf.jinja: `variables.tf`, the module README's tables and each
root's `main.tf` are formatted from these records (hacompile.plan.module), so a variable's
type, description and validation are said once. Validation conditions are Terraform
expressions written as text; each checks one input (what Terraform 1.6 allows), and the
module's resources check how inputs fit together with lifecycle preconditions.
"""

from __future__ import annotations

from hacompile.plan.model import Plan
from hacompile.record import Record

__all__ = [
    "CIDR",
    "IPV4",
    "JSON",
    "KEY",
    "PORT",
    "Argument",
    "Expr",
    "Input",
    "Output",
    "Validation",
    "base_inputs",
    "egress_input",
    "uses_ec2_endpoint",
    "uses_existing_network",
    "uses_flow_logs",
]


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
    list_default: bool = False  # `default = []`

    @property
    def default_label(self) -> str:
        """The module README's default column."""
        return "`null`" if self.nullable_default else "`[]`" if self.list_default else "required"


class Output(Record):
    name: str
    description: str


class Argument(Record):
    name: str
    value: object  # plain data (formatted by hacompile.render.hcl) or an Expr


CIDR = "can(cidrnetmask({x}))"
IPV4 = 'can(cidrnetmask("${{{x}}}/32"))'
PORT = "{x} >= 1 && {x} <= 65535 && floor({x}) == {x}"
KEY = 'can(regex("^[a-z0-9_]+$", {x}))'
JSON = "can(jsondecode({x}))"

_EGRESS_TYPE = (
    "map(object({ description = string, protocol = string, from_port = optional(number), "
    "to_port = optional(number), cidr = optional(string), to_group = optional(string) }))"
)


def egress_input(group: str, words: str, groups: tuple[str, ...]) -> Input:
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
                f"alltrue([for k, r in {x} : {KEY.format(x='k')}])",
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
                f"{CIDR.format(x='r.cidr')}])",
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


def uses_existing_network(plan: Plan) -> bool:
    return any(r.vpc_id for r in plan.regions)


def uses_ec2_endpoint(plan: Plan) -> bool:
    return any(r.ec2_endpoint_service for r in plan.regions)


def uses_flow_logs(destination: str, plan: Plan) -> bool:
    return any(r.flow_logs.destination == destination for r in plan.regions)


def base_inputs(plan: Plan) -> list[Input]:
    """The inputs of every bundle's module (the AMI inputs as the plan looks images up),
    in the order variables.tf declares them."""
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
            + (", flow_logs_role_prefix = string" if uses_flow_logs("cloudwatch", plan) else "")
            + (", ec2_endpoint_group = string" if uses_ec2_endpoint(plan) else "")
            + " })",
            "Names (and IAM name prefixes) of the VPC, route table, security groups and roles.",
        ),
        Input(
            "inventory_group",
            "string",
            "Ansible group of this region in the ansible_inventory output (no dashes).",
            (Validation(KEY.format(x="var.inventory_group"), "Letters, digits, underscores."),),
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
            "IPv4 CIDR block of the VPC the module creates"
            + (
                " (with vpc_id: a CIDR block of that VPC, checked at plan time)."
                if uses_existing_network(plan)
                else "."
            ),
            (Validation(CIDR.format(x="var.vpc_cidr"), "An IPv4 CIDR block."),),
        ),
        Input(
            "subnets",
            "map(object({ zone = string, cidr = string"
            + (", id = optional(string)" if uses_existing_network(plan) else "")
            + " }))",
            "One public subnet per availability zone, by key (the zone's letter)"
            + (
                ": created in the module's VPC, or with vpc_id the existing subnet `id`, "
                "whose zone and CIDR the plan checks."
                if uses_existing_network(plan)
                else "."
            ),
            (
                Validation(
                    "length(var.subnets) >= 2",
                    "At least two zones: one zone is one failure domain.",
                ),
                Validation(
                    f"alltrue([for s in values(var.subnets) : {CIDR.format(x='s.cidr')}])",
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
                    f"{IPV4.format(x='ip')}]]))",
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
                    f"alltrue([for k in var.eips : {KEY.format(x='k')}])",
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
                    f"alltrue([for c in var.ssh_cidrs : {CIDR.format(x='c')}])",
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
                    f"alltrue([for port in values(var.frontends) : {PORT.format(x='port')}])",
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
                    Validation(PORT.format(x="var.stats.port"), "A port from 1 to 65535."),
                    Validation(
                        f"alltrue([for c in var.stats.cidrs : {CIDR.format(x='c')}])",
                        "IPv4 CIDR blocks.",
                    ),
                ),
            )
        )
    return found
