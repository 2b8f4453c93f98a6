# This region's deployment: the module holds every resource, this root only its values
# (decided by hacompile from the spec; change the spec and build again rather than edit them).
data "aws_caller_identity" "current" {}

module "ha" {
  source = "../modules/haproxy-ha"

  name        = "api"
  name_prefix = "api-us-west-2-"
  names = {
    vpc                   = "api-us-west-2"
    route_table           = "api-us-west-2-public"
    lb_group              = "api-lb"
    lb_role_prefix        = "api-lb-"
    flow_logs_role_prefix = "api-flow-logs-"
  }
  inventory_group    = "us_west_2"
  deployment_tag_key = "hacompile:deployment"
  vpc_cidr           = "10.60.0.0/16"
  subnets = {
    a = { zone = "us-west-2a", cidr = "10.60.10.0/24" }
    b = { zone = "us-west-2b", cidr = "10.60.11.0/24" }
    c = { zone = "us-west-2c", cidr = "10.60.12.0/24" }
  }
  load_balancers = {
    lb1 = { subnet = "a", private_ip = "10.60.10.10", slot_ips = ["10.60.10.11", "10.60.10.12", "10.60.10.13"] }
    lb2 = { subnet = "b", private_ip = "10.60.11.10", slot_ips = ["10.60.11.11", "10.60.11.12", "10.60.11.13"] }
    lb3 = { subnet = "c", private_ip = "10.60.12.10", slot_ips = ["10.60.12.11", "10.60.12.12", "10.60.12.13"] }
  }
  eips           = ["eip1", "eip2", "eip3"]
  instance_type  = "t3.medium"
  root_volume_gb = 16
  ssh_key_name   = var.ssh_key_name
  ssh_cidrs      = ["203.0.113.0/26"]
  lb_ami_id      = var.lb_ami_id
  lb_ami_filter = {
    owner        = "099720109477"
    name         = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
    architecture = "x86_64"
  }
  frontends = { https = 443, http = 80 }
  lb_egress = {
    backend1 = { description = "Backend app1 port 8080", protocol = "tcp", from_port = 8080, to_port = 8080, cidr = "10.60.20.11/32" }
    backend2 = { description = "Backend app2 port 8080", protocol = "tcp", from_port = 8080, to_port = 8080, cidr = "10.60.20.12/32" }
    backend3 = { description = "Backend app3 (DNS name: the VPC) port 8443", protocol = "tcp", from_port = 8443, to_port = 8443, cidr = "10.60.0.0/16" }
    vrrp     = { description = "VRRP adverts to the other load balancers", protocol = "112", to_group = "lb" }
    dns_udp  = { description = "DNS to the VPC resolver", protocol = "udp", from_port = 53, to_port = 53, cidr = "10.60.0.2/32" }
    dns_tcp  = { description = "DNS over TCP to the VPC resolver", protocol = "tcp", from_port = 53, to_port = 53, cidr = "10.60.0.2/32" }
    https    = { description = "HTTPS: EC2 API and package mirrors", protocol = "tcp", from_port = 443, to_port = 443, cidr = "0.0.0.0/0" }
    http     = { description = "HTTP: package mirrors", protocol = "tcp", from_port = 80, to_port = 80, cidr = "0.0.0.0/0" }
  }
  eip_failover_policy = file("${path.module}/policies/eip-failover.json")
  flow_logs = {
    log_group          = "/hacompile/api/us-west-2/vpc-flow-logs"
    retention_days     = 365
    assume_role_policy = templatefile("${path.module}/policies/flow-logs-assume-role.json.tftpl", { account_id = data.aws_caller_identity.current.account_id })
    delivery_policy    = file("${path.module}/policies/flow-logs-delivery.json")
  }
}
