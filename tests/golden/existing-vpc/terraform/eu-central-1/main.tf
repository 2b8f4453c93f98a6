# This region's deployment: the module holds every resource, this root only its values
# (decided by hacompile from the spec; change the spec and build again rather than edit them).
data "aws_caller_identity" "current" {}

module "ha" {
  source = "../modules/haproxy-ha"

  name        = "edge"
  name_prefix = "edge-eu-central-1-"
  names = {
    vpc                   = "edge-eu-central-1"
    route_table           = "edge-eu-central-1-public"
    lb_group              = "edge-lb"
    lb_role_prefix        = "edge-lb-"
    flow_logs_role_prefix = "edge-flow-logs-"
    ec2_endpoint_group    = "edge-ec2-endpoint"
  }
  inventory_group    = "eu_central_1"
  deployment_tag_key = "hacompile:deployment"
  vpc_cidr           = "10.80.0.0/16"
  subnets = {
    a = { zone = "eu-central-1a", cidr = "10.80.1.0/24", id = "subnet-0a1b2c3d4e5f60701" }
    b = { zone = "eu-central-1b", cidr = "10.80.2.0/24", id = "subnet-0a1b2c3d4e5f60702" }
  }
  load_balancers = {
    lb1 = { subnet = "a", private_ip = "10.80.1.11", slot_ips = ["10.80.1.12", "10.80.1.13"] }
    lb2 = { subnet = "b", private_ip = "10.80.2.11", slot_ips = ["10.80.2.12", "10.80.2.13"] }
  }
  eips           = ["eip1", "eip2"]
  instance_type  = "t3.small"
  root_volume_gb = 16
  ssh_key_name   = var.ssh_key_name
  ssh_cidrs      = []
  lb_ami_id      = var.lb_ami_id
  lb_ami_filter = {
    owner        = "099720109477"
    name         = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
    architecture = "x86_64"
  }
  frontends          = { http = 80 }
  vpc_id             = "vpc-0a1b2c3d4e5f60718"
  security_group_ids = ["sg-0a1b2c3d4e5f60799"]
  lb_egress = {
    backend1     = { description = "Backend app1 port 8080", protocol = "tcp", from_port = 8080, to_port = 8080, cidr = "10.80.1.50/32" }
    backend2     = { description = "Backend app2 port 8080", protocol = "tcp", from_port = 8080, to_port = 8080, cidr = "10.80.2.50/32" }
    vrrp         = { description = "VRRP adverts to the other load balancers", protocol = "112", to_group = "lb" }
    ec2_endpoint = { description = "HTTPS: the EC2 API endpoint", protocol = "tcp", from_port = 443, to_port = 443, to_group = "ec2_endpoint" }
    dns_udp      = { description = "DNS to the VPC resolver", protocol = "udp", from_port = 53, to_port = 53, cidr = "10.80.0.2/32" }
    dns_tcp      = { description = "DNS over TCP to the VPC resolver", protocol = "tcp", from_port = 53, to_port = 53, cidr = "10.80.0.2/32" }
    https        = { description = "HTTPS: package mirrors", protocol = "tcp", from_port = 443, to_port = 443, cidr = "0.0.0.0/0" }
    http         = { description = "HTTP: package mirrors", protocol = "tcp", from_port = 80, to_port = 80, cidr = "0.0.0.0/0" }
  }
  dns = {
    zone_name    = "example.com"
    name         = "www.example.com"
    ttl          = 60
    health_check = { type = "HTTP", port = 80, path = "/health", interval = 10, failure_threshold = 3 }
  }
  ec2_endpoint_service   = "com.amazonaws.eu-central-1.ec2"
  eip_failover_policy    = file("${path.module}/policies/eip-failover.json")
  ssm_managed_policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
  flow_logs = {
    log_group          = "/hacompile/edge/eu-central-1/vpc-flow-logs"
    retention_days     = 365
    assume_role_policy = templatefile("${path.module}/policies/flow-logs-assume-role.json.tftpl", { account_id = data.aws_caller_identity.current.account_id })
    delivery_policy    = file("${path.module}/policies/flow-logs-delivery.json")
  }
}
