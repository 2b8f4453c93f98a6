resource "aws_security_group" "lb" {
  name        = var.names.lb_group
  description = "HAProxy load balancers: frontends, VRRP between peers, SSH from admins"
  vpc_id      = local.vpc_id

  tags = {
    Name = var.names.lb_group
  }
}

resource "aws_vpc_security_group_ingress_rule" "lb_frontend" {
  # checkov:skip=CKV_AWS_260: the frontends are public services: ingress from anywhere on their ports is the point of the load balancer
  for_each = var.frontends

  security_group_id = aws_security_group.lb.id
  description       = "Frontend ${each.key} from anywhere"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
}

# VRRP is IP protocol 112, not TCP or UDP; only the load balancers speak it, to each other.
resource "aws_vpc_security_group_ingress_rule" "lb_vrrp" {
  security_group_id            = aws_security_group.lb.id
  description                  = "VRRP adverts between the load balancers"
  referenced_security_group_id = aws_security_group.lb.id
  ip_protocol                  = "112"
}

# ICMP type 3 code 4 ("fragmentation needed") keeps path-MTU discovery working for clients.
resource "aws_vpc_security_group_ingress_rule" "lb_pmtu" {
  security_group_id = aws_security_group.lb.id
  description       = "Path MTU discovery"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "icmp"
  from_port         = 3
  to_port           = 4
}

resource "aws_vpc_security_group_ingress_rule" "lb_ssh" {
  for_each = toset(var.ssh_cidrs)

  security_group_id = aws_security_group.lb.id
  description       = "SSH from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

# An egress rule's to_group names one of the module's security groups.
locals {
  security_groups = {
    lb      = aws_security_group.lb.id
    backend = aws_security_group.backend.id
  }
}

# Egress: only what the load balancers need (hacompile.plan.security): the backends, VRRP to the
# peers, the VPC resolver, HTTPS/HTTP for the EC2 API and package mirrors, and what the spec
# adds under security.egress.

#trivy:ignore:AVD-AWS-0104[each.key=https] accepted for https: the EC2 API (EIP moves) and the package mirrors have no fixed addresses; add an EC2 VPC endpoint and a mirror to close it
#trivy:ignore:AVD-AWS-0104[each.key=http] accepted for http: the Ubuntu archive serves its signed packages over plain HTTP
resource "aws_vpc_security_group_egress_rule" "lb_egress" {
  for_each = var.lb_egress

  security_group_id            = aws_security_group.lb.id
  description                  = each.value.description
  cidr_ipv4                    = each.value.cidr
  referenced_security_group_id = each.value.to_group == null ? null : local.security_groups[each.value.to_group]
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.from_port
  to_port                      = each.value.to_port
}

resource "aws_security_group" "backend" {
  name        = var.names.backend_group
  description = "Demo web backends: the backend port from the load balancers only"
  vpc_id      = local.vpc_id

  tags = {
    Name = var.names.backend_group
  }
}

resource "aws_vpc_security_group_ingress_rule" "backend_from_lb" {
  # checkov:skip=CKV_AWS_260: false positive: the rule admits only the load balancers' security group (referenced_security_group_id), no CIDR
  security_group_id            = aws_security_group.backend.id
  description                  = "Backend port from the load balancers"
  referenced_security_group_id = aws_security_group.lb.id
  ip_protocol                  = "tcp"
  from_port                    = var.backend_port
  to_port                      = var.backend_port
}

resource "aws_vpc_security_group_ingress_rule" "backend_ssh" {
  for_each = toset(var.ssh_cidrs)

  security_group_id = aws_security_group.backend.id
  description       = "SSH from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

# Egress: package mirrors (HTTP/HTTPS) and the VPC resolver only.

#trivy:ignore:AVD-AWS-0104[each.key=https] accepted for https: the package mirrors have no fixed addresses; a mirror in the VPC would close it
#trivy:ignore:AVD-AWS-0104[each.key=http] accepted for http: the Ubuntu archive serves its signed packages over plain HTTP
resource "aws_vpc_security_group_egress_rule" "backend_egress" {
  for_each = var.backend_egress

  security_group_id            = aws_security_group.backend.id
  description                  = each.value.description
  cidr_ipv4                    = each.value.cidr
  referenced_security_group_id = each.value.to_group == null ? null : local.security_groups[each.value.to_group]
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.from_port
  to_port                      = each.value.to_port
}
