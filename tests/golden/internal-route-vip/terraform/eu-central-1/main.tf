# This region's deployment: the module holds every resource, this root only its values
# (decided by hacompile from the spec; change the spec and build again rather than edit them).
data "aws_caller_identity" "current" {}

module "ha" {
  source = "../modules/haproxy-ha"

  name        = "internal"
  name_prefix = "internal-eu-central-1-"
  names = {
    vpc                   = "internal-eu-central-1"
    route_table           = "internal-eu-central-1-public"
    lb_group              = "internal-lb"
    lb_role_prefix        = "internal-lb-"
    backend_group         = "internal-backend"
    flow_logs_role_prefix = "internal-flow-logs-"
  }
  inventory_group    = "eu_central_1"
  deployment_tag_key = "hacompile:deployment"
  vpc_cidr           = "10.20.0.0/16"
  subnets = {
    a = { zone = "eu-central-1a", cidr = "10.20.1.0/24" }
    b = { zone = "eu-central-1b", cidr = "10.20.2.0/24" }
  }
  load_balancers = {
    lb1 = { subnet = "a", private_ip = "10.20.1.10", slot_ips = ["10.20.1.11", "10.20.1.12"] }
    lb2 = { subnet = "b", private_ip = "10.20.2.10", slot_ips = ["10.20.2.11", "10.20.2.12"] }
  }
  eips           = ["eip1", "eip2"]
  instance_type  = "t3.small"
  root_volume_gb = 16
  ssh_key_name   = var.ssh_key_name
  ssh_cidrs      = ["203.0.113.0/24"]
  lb_ami_id      = var.lb_ami_id
  lb_ami_filter = {
    owner        = "099720109477"
    name         = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
    architecture = "x86_64"
  }
  frontends = { http = 80 }
  lb_egress = {
    backends = { description = "Demo backends on the backend port", protocol = "tcp", from_port = 8080, to_port = 8080, to_group = "backend" }
    vrrp     = { description = "VRRP adverts to the other load balancers", protocol = "112", to_group = "lb" }
    dns_udp  = { description = "DNS to the VPC resolver", protocol = "udp", from_port = 53, to_port = 53, cidr = "10.20.0.2/32" }
    dns_tcp  = { description = "DNS over TCP to the VPC resolver", protocol = "tcp", from_port = 53, to_port = 53, cidr = "10.20.0.2/32" }
    https    = { description = "HTTPS: EC2 API and package mirrors", protocol = "tcp", from_port = 443, to_port = 443, cidr = "0.0.0.0/0" }
    http     = { description = "HTTP: package mirrors", protocol = "tcp", from_port = 80, to_port = 80, cidr = "0.0.0.0/0" }
  }
  eip_failover_policy = file("${path.module}/policies/eip-failover.json")
  vip_routes = {
    api  = { destination = "172.31.255.10/32", owner = "lb1" }
    mesh = { destination = "172.31.255.11/32", owner = "lb2" }
  }
  vip_failover_policy = file("${path.module}/policies/vip-failover.json")
  flow_logs = {
    log_group          = "/hacompile/internal/eu-central-1/vpc-flow-logs"
    retention_days     = 365
    assume_role_policy = templatefile("${path.module}/policies/flow-logs-assume-role.json.tftpl", { account_id = data.aws_caller_identity.current.account_id })
    delivery_policy    = file("${path.module}/policies/flow-logs-delivery.json")
  }
  backends = {
    web1 = { subnet = "a", private_ip = "10.20.1.100" }
    web2 = { subnet = "b", private_ip = "10.20.2.100" }
  }
  backend_port          = 8080
  backend_instance_type = "t3.micro"
  backend_ami_id        = var.backend_ami_id
  backend_ami_filter = {
    owner        = "099720109477"
    name         = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-*-server-*"
    architecture = "x86_64"
  }
  backend_egress = {
    dns_udp = { description = "DNS to the VPC resolver", protocol = "udp", from_port = 53, to_port = 53, cidr = "10.20.0.2/32" }
    dns_tcp = { description = "DNS over TCP to the VPC resolver", protocol = "tcp", from_port = 53, to_port = 53, cidr = "10.20.0.2/32" }
    https   = { description = "HTTPS: package mirrors", protocol = "tcp", from_port = 443, to_port = 443, cidr = "0.0.0.0/0" }
    http    = { description = "HTTP: package mirrors", protocol = "tcp", from_port = 80, to_port = 80, cidr = "0.0.0.0/0" }
  }
}
