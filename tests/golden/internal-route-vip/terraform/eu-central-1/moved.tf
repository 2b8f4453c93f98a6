# Bundles built before the module kept every resource in this root, and one egress resource per
# rule. These blocks let `terraform plan` move such a state to the module's addresses instead
# of destroying and re-creating the VPC, the instances, the EIPs (new public addresses) and the
# deployment ID. A state created by this layout needs none of them; they are harmless there.
moved {
  from = aws_eip.service
  to   = module.ha.aws_eip.service
}

moved {
  from = terraform_data.deployment
  to   = module.ha.terraform_data.deployment
}

moved {
  from = aws_iam_role.lb
  to   = module.ha.aws_iam_role.lb
}

moved {
  from = aws_iam_role_policy.lb_eip_failover
  to   = module.ha.aws_iam_role_policy.lb_eip_failover
}

moved {
  from = aws_iam_instance_profile.lb
  to   = module.ha.aws_iam_instance_profile.lb
}

moved {
  from = aws_instance.lb
  to   = module.ha.aws_instance.lb
}

moved {
  from = aws_ec2_tag.lb_eni_deployment
  to   = module.ha.aws_ec2_tag.lb_eni_deployment
}

moved {
  from = aws_instance.backend
  to   = module.ha.aws_instance.backend
}

moved {
  from = aws_vpc.main
  to   = module.ha.aws_vpc.main
}

moved {
  from = aws_cloudwatch_log_group.flow_logs
  to   = module.ha.aws_cloudwatch_log_group.flow_logs
}

moved {
  from = aws_iam_role.flow_logs
  to   = module.ha.aws_iam_role.flow_logs
}

moved {
  from = aws_iam_role_policy.flow_logs
  to   = module.ha.aws_iam_role_policy.flow_logs
}

moved {
  from = aws_flow_log.main
  to   = module.ha.aws_flow_log.main
}

moved {
  from = aws_default_security_group.default
  to   = module.ha.aws_default_security_group.default
}

moved {
  from = aws_subnet.public
  to   = module.ha.aws_subnet.public
}

moved {
  from = aws_internet_gateway.main
  to   = module.ha.aws_internet_gateway.main
}

moved {
  from = aws_route_table.public
  to   = module.ha.aws_route_table.public
}

moved {
  from = aws_route.internet
  to   = module.ha.aws_route.internet
}

moved {
  from = aws_route_table_association.public
  to   = module.ha.aws_route_table_association.public
}

moved {
  from = aws_security_group.lb
  to   = module.ha.aws_security_group.lb
}

moved {
  from = aws_vpc_security_group_ingress_rule.lb_frontend
  to   = module.ha.aws_vpc_security_group_ingress_rule.lb_frontend
}

moved {
  from = aws_vpc_security_group_ingress_rule.lb_vrrp
  to   = module.ha.aws_vpc_security_group_ingress_rule.lb_vrrp
}

moved {
  from = aws_vpc_security_group_ingress_rule.lb_pmtu
  to   = module.ha.aws_vpc_security_group_ingress_rule.lb_pmtu
}

moved {
  from = aws_vpc_security_group_ingress_rule.lb_ssh
  to   = module.ha.aws_vpc_security_group_ingress_rule.lb_ssh
}

moved {
  from = aws_vpc_security_group_egress_rule.lb_egress_backends
  to   = module.ha.aws_vpc_security_group_egress_rule.lb_egress["backends"]
}

moved {
  from = aws_vpc_security_group_egress_rule.lb_egress_vrrp
  to   = module.ha.aws_vpc_security_group_egress_rule.lb_egress["vrrp"]
}

moved {
  from = aws_vpc_security_group_egress_rule.lb_egress_dns_udp
  to   = module.ha.aws_vpc_security_group_egress_rule.lb_egress["dns_udp"]
}

moved {
  from = aws_vpc_security_group_egress_rule.lb_egress_dns_tcp
  to   = module.ha.aws_vpc_security_group_egress_rule.lb_egress["dns_tcp"]
}

moved {
  from = aws_vpc_security_group_egress_rule.lb_egress_https
  to   = module.ha.aws_vpc_security_group_egress_rule.lb_egress["https"]
}

moved {
  from = aws_vpc_security_group_egress_rule.lb_egress_http
  to   = module.ha.aws_vpc_security_group_egress_rule.lb_egress["http"]
}

moved {
  from = aws_security_group.backend
  to   = module.ha.aws_security_group.backend
}

moved {
  from = aws_vpc_security_group_ingress_rule.backend_from_lb
  to   = module.ha.aws_vpc_security_group_ingress_rule.backend_from_lb
}

moved {
  from = aws_vpc_security_group_ingress_rule.backend_ssh
  to   = module.ha.aws_vpc_security_group_ingress_rule.backend_ssh
}

moved {
  from = aws_vpc_security_group_egress_rule.backend_egress_dns_udp
  to   = module.ha.aws_vpc_security_group_egress_rule.backend_egress["dns_udp"]
}

moved {
  from = aws_vpc_security_group_egress_rule.backend_egress_dns_tcp
  to   = module.ha.aws_vpc_security_group_egress_rule.backend_egress["dns_tcp"]
}

moved {
  from = aws_vpc_security_group_egress_rule.backend_egress_https
  to   = module.ha.aws_vpc_security_group_egress_rule.backend_egress["https"]
}

moved {
  from = aws_vpc_security_group_egress_rule.backend_egress_http
  to   = module.ha.aws_vpc_security_group_egress_rule.backend_egress["http"]
}

moved {
  from = aws_route.vip
  to   = module.ha.aws_route.vip
}

moved {
  from = aws_iam_role_policy.lb_vip_failover
  to   = module.ha.aws_iam_role_policy.lb_vip_failover
}

moved {
  from = aws_iam_role_policy.lb_vip_route_own_table
  to   = module.ha.aws_iam_role_policy.lb_vip_route_own_table
}
