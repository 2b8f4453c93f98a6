locals {
  subnets = {
    a = { zone = "us-east-2a", cidr = "10.41.1.0/24" }
    b = { zone = "us-east-2b", cidr = "10.41.2.0/24" }
    c = { zone = "us-east-2c", cidr = "10.41.3.0/24" }
  }
}

resource "aws_vpc" "main" {
  cidr_block           = "10.41.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "shop-us-east-2"
  }
}

# VPC flow logs (accepted and rejected traffic) to CloudWatch Logs, kept 365 days.
# The delivery role can be assumed only by the flow-logs service for this account's flow logs in
# this region, and may only write to this log group (policies/flow-logs-*.json*).
# trivy AVD-AWS-0017 accepted: flow-log records (addresses, ports, byte counts; no payload) are encrypted at rest by CloudWatch Logs with AWS-managed keys; a customer-managed KMS key would add a key policy to get right, a monthly charge per region and a 7-30 day deletion window to every teardown, for no reader it would exclude that IAM does not already exclude
#trivy:ignore:AVD-AWS-0017
resource "aws_cloudwatch_log_group" "flow_logs" {
  # checkov:skip=CKV_AWS_158: flow-log records (addresses, ports, byte counts; no payload) are encrypted at rest by CloudWatch Logs with AWS-managed keys; a customer-managed KMS key would add a key policy to get right, a monthly charge per region and a 7-30 day deletion window to every teardown, for no reader it would exclude that IAM does not already exclude
  name              = "/hacompile/shop/us-east-2/vpc-flow-logs"
  retention_in_days = 365
}

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "flow_logs" {
  name_prefix = "shop-flow-logs-"
  description = "VPC flow logs of shop in us-east-2 write to their log group"
  assume_role_policy = templatefile("${path.module}/policies/flow-logs-assume-role.json.tftpl", {
    account_id = data.aws_caller_identity.current.account_id
  })
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "flow-logs-delivery"
  role   = aws_iam_role.flow_logs.id
  policy = file("${path.module}/policies/flow-logs-delivery.json")
}

resource "aws_flow_log" "main" {
  vpc_id                   = aws_vpc.main.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60
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
    Name = "shop-${each.value.zone}"
  }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id

  tags = {
    Name = "shop-us-east-2"
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  tags = {
    Name = "shop-us-east-2-public"
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
