# Terraform allocates the EIPs but never associates them: Keepalived's notify scripts do, and
# `terraform apply` after a failover must not move an address back behind Keepalived's back.
resource "aws_eip" "service" {
  # checkov:skip=CKV2_AWS_19: Terraform allocates the EIPs but never associates them; Keepalived's notify script moves each EIP to the VRRP master at run time
  for_each = toset(var.eips)

  domain = "vpc"

  tags = {
    Name                     = "${var.name_prefix}${each.key}"
    (var.deployment_tag_key) = local.deployment_tag
  }
}
