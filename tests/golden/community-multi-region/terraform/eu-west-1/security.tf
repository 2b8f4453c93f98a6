resource "aws_security_group" "lb" {
  name        = "shop-lb"
  description = "HAProxy load balancers: frontends, VRRP between peers, SSH from admins"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "shop-lb"
  }
}

resource "aws_vpc_security_group_ingress_rule" "lb_frontend" {
  # checkov:skip=CKV_AWS_260: the frontends are public services: ingress from anywhere on their ports is the point of the load balancer
  for_each = {
    http = 80
  }

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
  for_each = toset(["198.51.100.0/24", "192.0.2.0/28"])

  security_group_id = aws_security_group.lb.id
  description       = "SSH from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

resource "aws_vpc_security_group_ingress_rule" "lb_stats" {
  for_each = toset(["198.51.100.0/24"])

  security_group_id = aws_security_group.lb.id
  description       = "HAProxy stats page from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 8404
  to_port           = 8404
}


# Egress: only what the load balancers need (hacompile.plan.security): the backends, VRRP to the
# peers, the VPC resolver, HTTPS/HTTP for the EC2 API and package mirrors, and what the spec
# adds under security.egress.

resource "aws_vpc_security_group_egress_rule" "lb_egress_backends" {
  security_group_id            = aws_security_group.lb.id
  description                  = "Demo backends on the backend port"
  referenced_security_group_id = aws_security_group.backend.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_egress_rule" "lb_egress_vrrp" {
  security_group_id            = aws_security_group.lb.id
  description                  = "VRRP adverts to the other load balancers"
  referenced_security_group_id = aws_security_group.lb.id
  ip_protocol                  = "112"
}

resource "aws_vpc_security_group_egress_rule" "lb_egress_dns_udp" {
  security_group_id = aws_security_group.lb.id
  description       = "DNS to the VPC resolver"
  cidr_ipv4         = "10.40.0.2/32"
  ip_protocol       = "udp"
  from_port         = 53
  to_port           = 53
}

resource "aws_vpc_security_group_egress_rule" "lb_egress_dns_tcp" {
  security_group_id = aws_security_group.lb.id
  description       = "DNS over TCP to the VPC resolver"
  cidr_ipv4         = "10.40.0.2/32"
  ip_protocol       = "tcp"
  from_port         = 53
  to_port           = 53
}

# trivy AVD-AWS-0104 accepted: the EC2 API (EIP moves) and the package mirrors have no fixed addresses; add an EC2 VPC endpoint and a mirror to close it
#trivy:ignore:AVD-AWS-0104
resource "aws_vpc_security_group_egress_rule" "lb_egress_https" {
  security_group_id = aws_security_group.lb.id
  description       = "HTTPS: EC2 API and package mirrors"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# trivy AVD-AWS-0104 accepted: the Ubuntu archive serves its signed packages over plain HTTP
#trivy:ignore:AVD-AWS-0104
resource "aws_vpc_security_group_egress_rule" "lb_egress_http" {
  security_group_id = aws_security_group.lb.id
  description       = "HTTP: package mirrors"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_security_group" "backend" {
  name        = "shop-backend"
  description = "Demo web backends: the backend port from the load balancers only"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "shop-backend"
  }
}

resource "aws_vpc_security_group_ingress_rule" "backend_from_lb" {
  # checkov:skip=CKV_AWS_260: false positive: the rule admits only the load balancers' security group (referenced_security_group_id), no CIDR
  security_group_id            = aws_security_group.backend.id
  description                  = "Backend port from the load balancers"
  referenced_security_group_id = aws_security_group.lb.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
}

resource "aws_vpc_security_group_ingress_rule" "backend_ssh" {
  for_each = toset(["198.51.100.0/24", "192.0.2.0/28"])

  security_group_id = aws_security_group.backend.id
  description       = "SSH from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

# Egress: package mirrors (HTTP/HTTPS) and the VPC resolver only.

resource "aws_vpc_security_group_egress_rule" "backend_egress_dns_udp" {
  security_group_id = aws_security_group.backend.id
  description       = "DNS to the VPC resolver"
  cidr_ipv4         = "10.40.0.2/32"
  ip_protocol       = "udp"
  from_port         = 53
  to_port           = 53
}

resource "aws_vpc_security_group_egress_rule" "backend_egress_dns_tcp" {
  security_group_id = aws_security_group.backend.id
  description       = "DNS over TCP to the VPC resolver"
  cidr_ipv4         = "10.40.0.2/32"
  ip_protocol       = "tcp"
  from_port         = 53
  to_port           = 53
}

# trivy AVD-AWS-0104 accepted: the package mirrors have no fixed addresses; a mirror in the VPC would close it
#trivy:ignore:AVD-AWS-0104
resource "aws_vpc_security_group_egress_rule" "backend_egress_https" {
  security_group_id = aws_security_group.backend.id
  description       = "HTTPS: package mirrors"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# trivy AVD-AWS-0104 accepted: the Ubuntu archive serves its signed packages over plain HTTP
#trivy:ignore:AVD-AWS-0104
resource "aws_vpc_security_group_egress_rule" "backend_egress_http" {
  security_group_id = aws_security_group.backend.id
  description       = "HTTP: package mirrors"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}
