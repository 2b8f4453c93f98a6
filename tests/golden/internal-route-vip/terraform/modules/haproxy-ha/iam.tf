# One deployment of this module: its ID is a UUID Terraform generates once, when this state
# first applies (terraform_data is built into Terraform: no provider). The tag
# var.deployment_tag_key = "<var.name_prefix><that ID>" is on the EIPs, the load balancers'
# network interfaces and their role, and nowhere else.
resource "terraform_data" "deployment" {}

locals {
  deployment_tag = "${var.name_prefix}${terraform_data.deployment.id}"
}

# The load balancers' only AWS permission: move this deployment's EIPs between this deployment's
# network interfaces. Both must carry the role's own deployment tag value (the policy compares
# them with aws:PrincipalTag), which the role cannot change: it has no ec2:CreateTags, so a
# compromised load balancer cannot touch, release or allocate any other address in the account,
# nor those of another deployment with the same name. The policies are plain JSON files
# (policies/ here and in each region's root), readable and lintable without Terraform.
resource "aws_iam_role" "lb" {
  name_prefix        = var.names.lb_role_prefix
  description        = "Keepalived on the ${var.name} load balancers moves EIPs"
  assume_role_policy = file("${path.module}/policies/ec2-assume-role.json")

  tags = {
    (var.deployment_tag_key) = local.deployment_tag
  }
}

resource "aws_iam_role_policy" "lb_eip_failover" {
  name   = "eip-failover"
  role   = aws_iam_role.lb.id
  policy = var.eip_failover_policy
}

resource "aws_iam_instance_profile" "lb" {
  name_prefix = var.names.lb_role_prefix
  role        = aws_iam_role.lb.name
}
