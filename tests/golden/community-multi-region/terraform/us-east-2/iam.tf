# One deployment of shop in us-east-2: its ID is a UUID Terraform generates once,
# when this state first applies (terraform_data is built into Terraform: no provider). The tag
# hacompile:deployment = "shop-us-east-2-<that ID>" is on the EIPs, the load
# balancers' network interfaces and their role, and nowhere else.
resource "terraform_data" "deployment" {}

locals {
  deployment_tag = "shop-us-east-2-${terraform_data.deployment.id}"
}

# The load balancers' only AWS permission: move this deployment's EIPs between this deployment's
# network interfaces. Both must carry the role's own hacompile:deployment tag value (the
# policy compares them with aws:PrincipalTag), which the role cannot change: it has no
# ec2:CreateTags, so a compromised load balancer cannot touch, release or allocate any other
# address in the account, nor those of another deployment with the same name. The policies are
# plain JSON files beside this one, readable and lintable without Terraform.
resource "aws_iam_role" "lb" {
  name_prefix        = "shop-lb-"
  description        = "Keepalived on the shop load balancers moves EIPs"
  assume_role_policy = file("${path.module}/policies/ec2-assume-role.json")

  tags = {
    "hacompile:deployment" = local.deployment_tag
  }
}

resource "aws_iam_role_policy" "lb_eip_failover" {
  name   = "eip-failover"
  role   = aws_iam_role.lb.id
  policy = file("${path.module}/policies/eip-failover.json")
}

resource "aws_iam_instance_profile" "lb" {
  name_prefix = "shop-lb-"
  role        = aws_iam_role.lb.name
}
