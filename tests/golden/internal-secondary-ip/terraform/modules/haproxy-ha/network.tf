resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = var.names.vpc
  }
}

locals {
  vpc_id     = aws_vpc.main.id
  subnet_ids = { for key, subnet in aws_subnet.public : key => subnet.id }
}

# VPC flow logs (accepted and rejected traffic) to CloudWatch Logs, kept var.flow_logs.retention_days
# days. The delivery role can be assumed only by the flow-logs service for this account's flow
# logs in this region, and may only write to this log group (the root's policies/flow-logs-*).
# trivy AVD-AWS-0017 accepted: flow-log records (addresses, ports, byte counts; no payload) are encrypted at rest by CloudWatch Logs with AWS-managed keys; a customer-managed KMS key would add a key policy to get right, a monthly charge per region and a 7-30 day deletion window to every teardown, for no reader it would exclude that IAM does not already exclude
#trivy:ignore:AVD-AWS-0017
resource "aws_cloudwatch_log_group" "flow_logs" {
  # checkov:skip=CKV_AWS_158: flow-log records (addresses, ports, byte counts; no payload) are encrypted at rest by CloudWatch Logs with AWS-managed keys; a customer-managed KMS key would add a key policy to get right, a monthly charge per region and a 7-30 day deletion window to every teardown, for no reader it would exclude that IAM does not already exclude
  name              = var.flow_logs.log_group
  retention_in_days = var.flow_logs.retention_days
}

resource "aws_iam_role" "flow_logs" {
  name_prefix        = var.names.flow_logs_role_prefix
  description        = "VPC flow logs of ${trimsuffix(var.name_prefix, "-")} write to their log group"
  assume_role_policy = var.flow_logs.assume_role_policy
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "flow-logs-delivery"
  role   = aws_iam_role.flow_logs.id
  policy = var.flow_logs.delivery_policy
}

resource "aws_flow_log" "main" {
  vpc_id                   = local.vpc_id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60
}

# No rules: traffic that no security group of ours allows is dropped (CIS 5.4).
resource "aws_default_security_group" "default" {
  vpc_id = local.vpc_id
}

resource "aws_subnet" "public" {
  for_each = var.subnets

  vpc_id            = local.vpc_id
  availability_zone = each.value.zone
  cidr_block        = each.value.cidr

  tags = {
    Name = "${var.name}-${each.value.zone}"
  }
}

resource "aws_internet_gateway" "main" {
  vpc_id = local.vpc_id

  tags = {
    Name = var.names.vpc
  }
}

resource "aws_route_table" "public" {
  vpc_id = local.vpc_id

  tags = {
    Name = var.names.route_table
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
