# Private VIPs (spec regions[].vips): each is its own VRRP instance, and its master's
# hacompile-eip-claim moves it in EC2 as the EIPs are moved: it points the VIP's routes at its
# own interface (route) or reassigns the VIP's private IP to it (secondary_ip); Keepalived adds
# the address to that interface, so HAProxy answers on it.

# secondary_ip: no resource here. The owner's claim assigns the VIP to its interface on its
# first MASTER; an address assigned by Terraform would be put back on its first interface by
# every apply after a failover, fighting the claim (the load balancers therefore ignore
# changes to their secondary IPs, instances.tf).

# What the claim may do for the VIPs (the region root's policies/vip-failover.json*): null in a
# region without VIPs.
resource "aws_iam_role_policy" "lb_vip_failover" {
  count = var.vip_failover_policy == null ? 0 : 1

  name   = "vip-failover"
  role   = aws_iam_role.lb.id
  policy = var.vip_failover_policy
}
