"""The module's side of private VIPs (spec regions[].vips): inputs, and each region's values.

Only a bundle with VIPs has any of it, so a bundle without keeps its module byte for byte.
A route VIP is one `aws_route` per (VIP, route table), created pointing at the owner's
interface; the route tables are the region's existing ones the spec names, or the module's
own (a VPC the bundle creates has one). A secondary_ip VIP has no Terraform resource: the
owner's claim assigns the address on its first MASTER. Both strategies add one IAM policy to
the load balancers' role (hacompile.plan.iam.vip_failover_policy), passed like the EIPs'.
"""

from __future__ import annotations

from hacompile.plan.model import Plan, Region
from hacompile.plan.module_inputs import JSON, Expr, Input, Validation

__all__ = [
    "OWN_TABLE_POLICY",
    "uses_own_route_table",
    "uses_route_vips",
    "uses_secondary_ip_vips",
    "uses_vips",
    "vip_failover_argument",
    "vip_inputs",
    "vip_policy_name",
    "vip_routes_value",
]

# The module's own template (terraform/modules/<name>/policies/): the module fills in its own
# route table's ARN, which no root knows (hacompile.plan.iam.own_route_table_policy says why).
OWN_TABLE_POLICY = "vip-route-own-table.json.tftpl"


def uses_vips(plan: Plan) -> bool:
    return any(r.vips for r in plan.regions)


def uses_route_vips(plan: Plan) -> bool:
    return any(v.strategy == "route" for r in plan.regions for v in r.vips)


def uses_own_route_table(plan: Plan) -> bool:
    return any(v.own_route_table for r in plan.regions for v in r.vips)


def uses_secondary_ip_vips(plan: Plan) -> bool:
    return any(v.strategy == "secondary_ip" for r in plan.regions for v in r.vips)


def vip_routes_value(region: Region) -> dict[str, dict[str, object]]:
    """One entry per (route VIP, route table), the module's `aws_route.vip` for_each: keyed by
    the VIP's name for the module's own table, `<name>.<rtb ID>` for an existing one (keys are
    known at plan time; the own table's ID is not)."""
    out: dict[str, dict[str, object]] = {}
    for vip in region.vips:
        if vip.strategy != "route":
            continue
        entry: dict[str, object] = {"destination": f"{vip.address}/32", "owner": vip.master}
        if vip.own_route_table:
            out[vip.name] = entry
        for table in vip.route_tables:
            out[f"{vip.name}.{table}"] = entry | {"route_table_id": table}
    return out


def vip_policy_name(region: Region) -> str:
    """The region's VIP policy file: a .tftpl where an existing route table's ARN needs the
    account ID, which Terraform's templatefile fills in (unknown at compile time)."""
    needs_account = any(v.route_tables for v in region.vips)
    return "vip-failover.json.tftpl" if needs_account else "vip-failover.json"


def vip_failover_argument(region: Region) -> Expr | None:
    """What the region's root passes as vip_failover_policy; None (omitted) without VIPs."""
    if not region.vips:
        return None
    name = vip_policy_name(region)
    if name.endswith(".tftpl"):
        return Expr(
            f'templatefile("${{path.module}}/policies/{name}", '
            "{ account_id = data.aws_caller_identity.current.account_id })"
        )
    return Expr(f'file("${{path.module}}/policies/{name}")')


def vip_inputs(plan: Plan) -> list[Input]:
    """The VIP inputs, after eip_failover_policy; none in a bundle without VIPs."""
    if not uses_vips(plan):
        return []
    found = []
    if uses_route_vips(plan):
        found.append(
            Input(
                "vip_routes",
                "map(object({ destination = string, owner = string, "
                "route_table_id = optional(string) }))",
                "Private route VIPs: one route per VIP and route table, by key: the VIP's /32, "
                "the load balancer it first points at (its owner; Keepalived's claim moves it "
                "afterwards, Terraform never does) and an existing route table (omitted: the "
                "module's own). Turns source/destination checking off on the load balancers "
                "when not empty.",
                (
                    Validation(
                        "alltrue([for r in values(var.vip_routes) : "
                        'can(regex("/32$", r.destination)) && can(cidrnetmask(r.destination))])',
                        "destination is an IPv4 /32.",
                    ),
                    Validation(
                        "alltrue([for r in values(var.vip_routes) : r.route_table_id == null ? "
                        'true : can(regex("^rtb-[0-9a-f]+$", r.route_table_id))])',
                        'route_table_id is a route table ID such as "rtb-0123456789abcdef0".',
                    ),
                ),
            )
        )
    may = []
    if uses_route_vips(plan):
        may.append("see the route tables")
    if any(v.route_tables for r in plan.regions for v in r.vips):
        may.append("point the VIPs' routes in the existing route tables named at an interface")
    if uses_secondary_ip_vips(plan):
        may.append("reassign the VIPs' private IPs to this deployment's interfaces")
    found.append(
        Input(
            "vip_failover_policy",
            "string",
            f"IAM policy JSON for the private VIPs: {', '.join(may)} (null: the region has "
            "none)."
            + (
                " The module grants its own route table itself (only it knows the table's ARN)."
                if uses_own_route_table(plan)
                else ""
            ),
            (
                Validation(
                    f"var.vip_failover_policy == null ? true : "
                    f"{JSON.format(x='var.vip_failover_policy')}",
                    "A JSON document.",
                ),
            ),
            nullable_default=True,
        )
    )
    return found
