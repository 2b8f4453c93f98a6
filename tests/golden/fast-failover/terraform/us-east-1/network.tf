locals {
  subnets = {
    a = { zone = "us-east-1a", cidr = "10.10.1.0/24" }
    b = { zone = "us-east-1b", cidr = "10.10.2.0/24" }
  }
}

resource "aws_vpc" "main" {
  # checkov:skip=CKV2_AWS_11: VPC flow logs need a destination, retention and budget the operator chooses; hacompile does not create one
  cidr_block           = "10.10.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "fast-us-east-1"
  }
}

# No rules: traffic that no security group of ours allows is dropped (CIS 5.4).
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  for_each = local.subnets

  vpc_id            = aws_vpc.main.id
  availability_zone = each.value.zone
  cidr_block        = each.value.cidr

  tags = {
    Name = "fast-${each.value.zone}"
  }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id

  tags = {
    Name = "fast-us-east-1"
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  tags = {
    Name = "fast-us-east-1-public"
  }
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.main.id
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}
