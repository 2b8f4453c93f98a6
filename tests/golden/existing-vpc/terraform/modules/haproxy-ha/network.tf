resource "aws_vpc" "main" {
  # checkov:skip=CKV2_AWS_11: false positive: where a region may bring its own VPC the module counts its VPC, and checkov cannot link a counted VPC to its flow log, which has the same count
  # checkov:skip=CKV2_AWS_12: false positive: where a region may bring its own VPC the module counts its VPC and the default-group lockdown with it, which checkov cannot link
  count = var.vpc_id == null ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = var.names.vpc
  }
}

# An existing VPC (var.vpc_id) is read, never changed: the plan stops with a message when it
# does not hold var.vpc_cidr, when a subnet is not in it or not where the spec says, or when a
# subnet's route table does not send 0.0.0.0/0 to an internet gateway (an EIP works only there;
# the route table must be associated with the subnet explicitly).
data "aws_vpc" "existing" {
  count = var.vpc_id == null ? 0 : 1

  id = var.vpc_id

  lifecycle {
    postcondition {
      condition     = contains([for block in self.cidr_block_associations : block.cidr_block], var.vpc_cidr)
      error_message = "VPC ${var.vpc_id} has no CIDR block ${var.vpc_cidr} (the spec's vpc_cidr)."
    }
  }
}

data "aws_subnet" "existing" {
  for_each = var.vpc_id == null ? {} : var.subnets

  id = each.value.id

  lifecycle {
    postcondition {
      condition     = self.vpc_id == var.vpc_id
      error_message = "Subnet ${each.value.id} is in ${self.vpc_id}, not in ${var.vpc_id}."
    }

    postcondition {
      condition     = self.availability_zone == each.value.zone
      error_message = "Subnet ${each.value.id} is in zone ${self.availability_zone}, not ${each.value.zone}."
    }

    postcondition {
      condition     = self.cidr_block == each.value.cidr
      error_message = "Subnet ${each.value.id} is ${self.cidr_block}, not ${each.value.cidr} as the spec says."
    }
  }
}

data "aws_route_table" "existing" {
  for_each = data.aws_subnet.existing

  subnet_id = each.value.id

  lifecycle {
    postcondition {
      condition     = anytrue([for route in self.routes : route.cidr_block == "0.0.0.0/0" && startswith(route.gateway_id, "igw-")])
      error_message = "Route table ${self.id} of subnet ${each.value.id} sends 0.0.0.0/0 to no internet gateway: an EIP works only in a public subnet."
    }
  }
}

locals {
  vpc_id     = var.vpc_id != null ? data.aws_vpc.existing[0].id : aws_vpc.main[0].id
  subnet_ids = var.vpc_id != null ? { for key, subnet in data.aws_subnet.existing : key => subnet.id } : { for key, subnet in aws_subnet.public : key => subnet.id }
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
  count = var.vpc_id == null ? 1 : 0

  vpc_id = local.vpc_id
}

resource "aws_subnet" "public" {
  for_each = var.vpc_id == null ? var.subnets : {}

  vpc_id            = local.vpc_id
  availability_zone = each.value.zone
  cidr_block        = each.value.cidr

  tags = {
    Name = "${var.name}-${each.value.zone}"
  }
}

resource "aws_internet_gateway" "main" {
  count = var.vpc_id == null ? 1 : 0

  vpc_id = local.vpc_id

  tags = {
    Name = var.names.vpc
  }
}

resource "aws_route_table" "public" {
  count = var.vpc_id == null ? 1 : 0

  vpc_id = local.vpc_id

  tags = {
    Name = var.names.route_table
  }
}

resource "aws_route" "internet" {
  count = var.vpc_id == null ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.main[0].id
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public[0].id
}

# The EC2 API inside the VPC (security.ec2_endpoint): an interface in each load balancer subnet,
# and private DNS, so ec2.<region>.amazonaws.com resolves to it for every instance of the VPC.
# The EIP claim then needs neither the internet gateway nor the public endpoint at the moment of
# a failure, and its scripts need no change. The load balancers' role still scopes what they
# may do; the endpoint keeps its default (full access) policy so that the role alone decides.
resource "aws_vpc_endpoint" "ec2" {
  vpc_id              = local.vpc_id
  service_name        = var.ec2_endpoint_service
  vpc_endpoint_type   = "Interface"
  subnet_ids          = values(local.subnet_ids)
  security_group_ids  = [aws_security_group.ec2_endpoint.id]
  private_dns_enabled = true

  tags = {
    Name = "${var.name_prefix}ec2"
  }
}
