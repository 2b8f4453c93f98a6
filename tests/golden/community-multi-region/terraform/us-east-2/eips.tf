# Terraform allocates the EIPs but never associates them: Keepalived's notify scripts do, and
# `terraform apply` after a failover must not move an address back behind Keepalived's back.
resource "aws_eip" "service" {
  # checkov:skip=CKV2_AWS_19: Terraform allocates the EIPs but never associates them; Keepalived's notify script moves each EIP to the VRRP master at run time
  for_each = toset(["eip1", "eip2"])

  domain = "vpc"

  tags = {
    Name                   = "shop-us-east-2-${each.key}"
    "hacompile:deployment" = local.deployment_tag
  }
}
