# The newest image lb_ami_filter names, unless lb_ami_id pins one (regions[].ami_id does).
data "aws_ami" "lb" {
  count = var.lb_ami_id == null ? 1 : 0

  most_recent = true
  owners      = [var.lb_ami_filter.owner]

  filter {
    name   = "name"
    values = [var.lb_ami_filter.name]
  }

  filter {
    name   = "architecture"
    values = [var.lb_ami_filter.architecture]
  }
}

# Addresses are fixed by hacompile so that Keepalived peers and HAProxy servers are known before
# anything exists (var.load_balancers). Each load balancer's primary IP is for management and
# VRRP only; it carries one secondary IP per EIP ("slot"), where that EIP lands while this node
# holds it.
resource "aws_instance" "lb" {
  # checkov:skip=CKV_AWS_88: the load balancers sit in public subnets with no NAT or bastion: the public address carries SSH from ssh_cidrs only and their calls to the EC2 API
  for_each = var.load_balancers

  ami                         = var.lb_ami_id != null ? var.lb_ami_id : data.aws_ami.lb[0].id
  instance_type               = var.instance_type
  key_name                    = var.ssh_key_name
  subnet_id                   = local.subnet_ids[each.value.subnet]
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
    volume_size = var.root_volume_gb
    encrypted   = true
  }

  tags = {
    Name = "${var.name_prefix}${each.key}"
    Role = "load-balancer"
  }

  lifecycle {
    # secondary_private_ips too: a secondary_ip VIP is assigned to the interface of its master
    # by the claim (vips.tf), and Terraform would take it away again as drift. The slot IPs are
    # fixed when the instance is created: a change to them (more EIPs) needs
    # `terraform apply -replace` of the load balancer.
    ignore_changes = [ami, user_data, secondary_private_ips]

    precondition {
      condition     = contains(keys(var.subnets), each.value.subnet)
      error_message = "load_balancers.${each.key}.subnet names no key of var.subnets."
    }

    precondition {
      condition     = length(each.value.slot_ips) == length(var.eips)
      error_message = "load_balancers.${each.key} needs one slot IP per EIP (${length(var.eips)})."
    }
  }
}

# The IAM policy matches interfaces by the deployment tag (iam.tf); EC2 does not copy instance
# tags to the primary network interface, so tag it explicitly.
resource "aws_ec2_tag" "lb_eni_deployment" {
  for_each = aws_instance.lb

  resource_id = each.value.primary_network_interface_id
  key         = var.deployment_tag_key
  value       = local.deployment_tag
}

data "aws_ami" "ubuntu" {
  count = var.backend_ami_id == null ? 1 : 0

  most_recent = true
  owners      = [var.backend_ami_filter.owner]

  filter {
    name   = "name"
    values = [var.backend_ami_filter.name]
  }

  filter {
    name   = "architecture"
    values = [var.backend_ami_filter.architecture]
  }
}

resource "aws_instance" "backend" {
  # checkov:skip=CKV_AWS_88: demo backends sit in public subnets with no NAT: the public address lets them install nginx and carries SSH from ssh_cidrs only
  # checkov:skip=CKV2_AWS_41: demo backends call no AWS API, so least privilege means no IAM role
  for_each = var.backends

  ami                         = var.backend_ami_id != null ? var.backend_ami_id : data.aws_ami.ubuntu[0].id
  instance_type               = var.backend_instance_type
  key_name                    = var.ssh_key_name
  subnet_id                   = local.subnet_ids[each.value.subnet]
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
    Name = "${var.name_prefix}${each.key}"
    Role = "backend"
  }

  lifecycle {
    ignore_changes = [ami, user_data]

    precondition {
      condition     = contains(keys(var.subnets), each.value.subnet)
      error_message = "backends.${each.key}.subnet names no key of var.subnets."
    }
  }
}
