# The load balancers' only AWS permission: move this cluster's EIPs between this cluster's
# network interfaces. Both are matched by the hacompile:cluster tag, which the role
# cannot change (it has no ec2:CreateTags), so a compromised load balancer cannot touch, release
# or allocate any other address in the account. The policies are plain JSON files beside this
# one, readable and lintable without Terraform.
resource "aws_iam_role" "lb" {
  name_prefix        = "fast-lb-"
  description        = "Keepalived on the fast load balancers moves EIPs"
  assume_role_policy = file("${path.module}/policies/ec2-assume-role.json")
}

resource "aws_iam_role_policy" "lb_eip_failover" {
  name   = "eip-failover"
  role   = aws_iam_role.lb.id
  policy = file("${path.module}/policies/eip-failover.json")
}

resource "aws_iam_instance_profile" "lb" {
  name_prefix = "fast-lb-"
  role        = aws_iam_role.lb.name
}
