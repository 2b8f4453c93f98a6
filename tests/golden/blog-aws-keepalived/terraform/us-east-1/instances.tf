data "aws_ami" "lb" {
  most_recent = true
  owners      = ["aws-marketplace"]

  # Only images of this one Marketplace product (HAProxy Technologies'): "aws-marketplace" and a
  # name pattern alone would admit any seller's image of a matching name.
  filter {
    name   = "product-code"
    values = ["483gxnuft87jy44d3q8n4kvt1"]
  }

  filter {
    name   = "name"
    values = ["hapee-ubuntu-*-amd64-hvm-3.0*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

# Addresses are fixed by hacompile so that Keepalived peers and HAProxy servers are known before
# anything exists. Each load balancer's primary IP is for management and VRRP only; it carries
# one secondary IP per EIP ("slot"), where that EIP lands while this node holds it.
locals {
  load_balancers = {
    lb1 = { subnet = "a", private_ip = "10.0.1.10", slot_ips = ["10.0.1.11", "10.0.1.12"] }
    lb2 = { subnet = "b", private_ip = "10.0.2.10", slot_ips = ["10.0.2.11", "10.0.2.12"] }
  }
}

resource "aws_instance" "lb" {
  # checkov:skip=CKV_AWS_88: the load balancers sit in public subnets with no NAT or bastion: the public address carries SSH from ssh_cidrs only and their calls to the EC2 API
  for_each = local.load_balancers

  ami                         = coalesce(var.lb_ami_id, data.aws_ami.lb.id)
  instance_type               = "t3.small"
  key_name                    = var.ssh_key_name
  subnet_id                   = aws_subnet.public[each.value.subnet].id
  private_ip                  = each.value.private_ip
  secondary_private_ips       = each.value.slot_ips
  associate_public_ip_address = true
  vpc_security_group_ids      = [aws_security_group.lb.id]
  iam_instance_profile        = aws_iam_instance_profile.lb.name
  monitoring                  = true
  ebs_optimized               = true
  user_data                   = file("${path.module}/cloud-init/lb.yaml")

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 16
    encrypted   = true
  }

  tags = {
    Name = "hapee-blog-us-east-1-${each.key}"
    Role = "load-balancer"
  }

  lifecycle {
    ignore_changes = [ami, user_data]
  }
}

# The IAM policy matches interfaces by the deployment tag (iam.tf); EC2 does not copy instance
# tags to the primary network interface, so tag it explicitly.
resource "aws_ec2_tag" "lb_eni_deployment" {
  for_each = aws_instance.lb

  resource_id = each.value.primary_network_interface_id
  key         = "hacompile:deployment"
  value       = local.deployment_tag
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-*-server-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

locals {
  backends = {
    web1 = { subnet = "a", private_ip = "10.0.1.100" }
    web2 = { subnet = "b", private_ip = "10.0.2.100" }
    web3 = { subnet = "a", private_ip = "10.0.1.101" }
  }
}

resource "aws_instance" "backend" {
  # checkov:skip=CKV_AWS_88: demo backends sit in public subnets with no NAT: the public address lets them install nginx and carries SSH from ssh_cidrs only
  # checkov:skip=CKV2_AWS_41: demo backends call no AWS API, so least privilege means no IAM role
  for_each = local.backends

  ami                         = coalesce(var.backend_ami_id, data.aws_ami.ubuntu.id)
  instance_type               = "t3.micro"
  key_name                    = var.ssh_key_name
  subnet_id                   = aws_subnet.public[each.value.subnet].id
  private_ip                  = each.value.private_ip
  associate_public_ip_address = true
  vpc_security_group_ids      = [aws_security_group.backend.id]
  monitoring                  = true
  ebs_optimized               = true
  user_data                   = file("${path.module}/cloud-init/backend.yaml")

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 8
    encrypted   = true
  }

  tags = {
    Name = "hapee-blog-us-east-1-${each.key}"
    Role = "backend"
  }

  lifecycle {
    ignore_changes = [ami, user_data]
  }
}
