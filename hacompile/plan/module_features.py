"""The module inputs of optional features: present only where the spec uses the feature.

The demo backends, the stats page, flow logs, an existing VPC (regions[].vpc_id), the EC2
API endpoint and Route 53 records each add inputs (and resources) to the module only when some
region of the spec uses them, so a bundle carries no interface it cannot use.
"""

from __future__ import annotations

from hacompile.plan.model import Plan
from hacompile.plan.module_inputs import (
    CIDR,
    IPV4,
    JSON,
    PORT,
    Input,
    Validation,
    egress_input,
    uses_ec2_endpoint,
    uses_existing_network,
    uses_flow_logs,
)
from hacompile.plan.module_vips import vip_inputs

__all__ = ["existing_network_inputs", "feature_inputs"]


def existing_network_inputs(plan: Plan) -> list[Input]:
    if not uses_existing_network(plan):
        return []
    return [
        Input(
            "vpc_id",
            "string",
            "An existing VPC to deploy into (null: the module creates one). The module then "
            "creates no VPC, internet gateway, route table or default-group rules, and checks "
            "at plan time that each subnet is in this VPC, zone and CIDR and routes 0.0.0.0/0 "
            "to an internet gateway (an EIP works only there).",
            (
                Validation(
                    'var.vpc_id == null ? true : can(regex("^vpc-[0-9a-f]+$", var.vpc_id))',
                    'A VPC ID such as "vpc-0123456789abcdef0".',
                ),
            ),
            nullable_default=True,
        ),
        Input(
            "security_group_ids",
            "list(string)",
            "Existing security groups of that VPC added to the load balancers.",
            (
                Validation(
                    'alltrue([for g in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", g))])',
                    'Security group IDs such as "sg-0123456789abcdef0".',
                ),
            ),
            list_default=True,
        ),
    ]


def feature_inputs(plan: Plan) -> list[Input]:
    """The inputs after the base ones: egress, and each optional feature the spec uses."""
    demo = any(r.demo_backends for r in plan.regions)
    found: list[Input] = existing_network_inputs(plan)
    if plan.observability.metrics_port:
        found.append(
            Input(
                "metrics",
                "object({ port = number, cidrs = list(string) })",
                "Prometheus metrics (HAProxy's exporter and the VRRP states): the port, open "
                "only to these CIDR blocks (HAProxy refuses every other source too).",
                (
                    Validation(PORT.format(x="var.metrics.port"), "A port from 1 to 65535."),
                    Validation(
                        f"length(var.metrics.cidrs) > 0 && alltrue([for c in var.metrics.cidrs "
                        f': {CIDR.format(x="c")} && !endswith(c, "/0")])',
                        "One or more IPv4 CIDR blocks, none of them /0.",
                    ),
                ),
            )
        )
    groups = (
        "lb",
        *(["backend"] if demo else []),
        *(["ec2_endpoint"] if uses_ec2_endpoint(plan) else []),
    )
    found.append(egress_input("lb", "load balancers", groups))
    if plan.dns is not None:
        routed = plan.dns.routing != "multivalue"
        routing_checks = (
            (
                Validation(
                    'contains(["latency", "failover"], var.dns.routing) && '
                    '(var.dns.routing != "failover" || '
                    'contains(["PRIMARY", "SECONDARY"], coalesce(var.dns.failover, "-")))',
                    "routing is latency or failover; failover is PRIMARY or SECONDARY.",
                ),
            )
            if routed
            else ()
        )
        found.append(
            Input(
                "dns",
                "object({ zone_id = optional(string), zone_name = optional(string), "
                "name = string, ttl = number, health_check = object({ type = string, "
                "port = number, path = optional(string), interval = number, "
                "failure_threshold = number })"
                + (
                    ", record_name = string, routing = string, "
                    "latency_region = optional(string), failover = optional(string) })"
                    if routed
                    else " })"
                ),
                "Route 53: one multivalue A record per EIP on `name`, in the public zone "
                "zone_id (or looked up by zone_name), each answered only while its health "
                "check (HTTP path or TCP connect to a frontend port) passes."
                + (
                    " With `routing` latency or failover the records are on `record_name` "
                    "(this region's own set) and `name` is an alias of it with that routing "
                    "policy."
                    if routed
                    else ""
                ),
                (
                    *routing_checks,
                    Validation(
                        "(var.dns.zone_id == null) != (var.dns.zone_name == null)",
                        "Give exactly one of zone_id and zone_name.",
                    ),
                    Validation(
                        'contains(["HTTP", "HTTPS", "TCP"], var.dns.health_check.type)',
                        "health_check.type is HTTP, HTTPS or TCP.",
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
    if uses_ec2_endpoint(plan):
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
            (Validation(JSON.format(x="var.eip_failover_policy"), "A JSON document."),),
        )
    )
    found += vip_inputs(plan)
    if plan.management == "ssm":
        found.append(
            Input(
                "ssm_managed_policy_arn",
                "string",
                "The AWS managed policy that lets SSM Session Manager reach the load balancers "
                "(management through Session Manager: no inbound SSH).",
                (
                    Validation(
                        'can(regex("^arn:aws[a-z-]*:iam::aws:policy/", '
                        "var.ssm_managed_policy_arn))",
                        "An AWS managed policy ARN.",
                    ),
                ),
            )
        )
    if plan.tls.files:
        found.append(
            Input(
                "tls_read_policy",
                "string",
                "IAM policy JSON: read the certificates' secrets and parameters (and decrypt "
                "them only through Secrets Manager or SSM), nothing else.",
                (Validation(JSON.format(x="var.tls_read_policy"), "A JSON document."),),
            )
        )
    if uses_flow_logs("cloudwatch", plan):
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
                    Validation(JSON.format(x="var.flow_logs.delivery_policy"), "A JSON document."),
                ),
            )
        )
    if uses_flow_logs("s3", plan):
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
                        f"{IPV4.format(x='b.private_ip')}])",
                        "Addresses are IPv4 addresses.",
                    ),
                ),
            ),
            Input(
                "backend_port",
                "number",
                "Port the demo backends serve on: open to the load balancers only.",
                (Validation(PORT.format(x="var.backend_port"), "A port from 1 to 65535."),),
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
            egress_input("backend", "demo backends", groups),
        ]
    return found
