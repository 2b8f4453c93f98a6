# Private VIPs (spec regions[].vips): each is its own VRRP instance, and its master's
# hacompile-eip-claim moves it in EC2 as the EIPs are moved: it points the VIP's routes at its
# own interface (route) or reassigns the VIP's private IP to it (secondary_ip); Keepalived adds
# the address to that interface, so HAProxy answers on it.

# route: one route per VIP and route table (var.vip_routes), created pointing at the VIP's
# owner so that the VIP works from the first apply and `terraform destroy` removes the route.
resource "aws_route" "vip" {
  for_each = var.vip_routes

  route_table_id         = each.value.route_table_id != null ? each.value.route_table_id : aws_route_table.public.id
  destination_cidr_block = each.value.destination
  network_interface_id   = aws_instance.lb[each.value.owner].primary_network_interface_id

  lifecycle {
    # Created once; from then on hacompile-eip-claim owns the target (a failover points the
    # route at the new master's interface), and Terraform must never move it back.
    ignore_changes = [network_interface_id]

    precondition {
      condition     = contains(keys(var.load_balancers), each.value.owner)
      error_message = "vip_routes.${each.key}.owner names no key of var.load_balancers."
    }
  }
}

# What the claim may do for the VIPs (the region root's policies/vip-failover.json*): null in a
# region without VIPs.
resource "aws_iam_role_policy" "lb_vip_failover" {
  count = var.vip_failover_policy == null ? 0 : 1

  name   = "vip-failover"
  role   = aws_iam_role.lb.id
  policy = var.vip_failover_policy
}

# Writing the VIP routes of this module's own route table, and only of it. Its ARN exists only
# once Terraform created the table, here, so the module fills in its own policy template
# (policies/vip-route-own-table.json.tftpl) instead of taking the JSON from the root like
# the others: a root cannot know the ARN without reading the module's output back into it.
resource "aws_iam_role_policy" "lb_vip_route_own_table" {
  count = anytrue([for r in values(var.vip_routes) : r.route_table_id == null]) ? 1 : 0

  name   = "vip-route-own-table"
  role   = aws_iam_role.lb.id
  policy = templatefile("${path.module}/policies/vip-route-own-table.json.tftpl", { route_table_arn = aws_route_table.public.arn })
}
