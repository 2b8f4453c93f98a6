# Route 53 (spec `dns`): one multivalue A record per EIP on var.dns.name, answered only while
# that EIP's health check passes, so an EIP whose load balancers are all down leaves the answer
# set. Every region's root adds its own EIPs to the same name (set_identifier keeps them apart).
# The deploying principal writes these; the load balancers' role has no Route 53 permission.
data "aws_route53_zone" "dns" {
  count = var.dns.zone_id == null ? 1 : 0

  name         = var.dns.zone_name
  private_zone = false
}

locals {
  dns_zone_id = var.dns.zone_id != null ? var.dns.zone_id : data.aws_route53_zone.dns[0].zone_id
}

resource "aws_route53_health_check" "eip" {
  for_each = aws_eip.service

  ip_address        = each.value.public_ip
  port              = var.dns.health_check.port
  type              = var.dns.health_check.type
  resource_path     = var.dns.health_check.type == "TCP" ? null : var.dns.health_check.path
  request_interval  = var.dns.health_check.interval
  failure_threshold = var.dns.health_check.failure_threshold

  tags = {
    Name = "${var.name_prefix}${each.key}"
  }
}

resource "aws_route53_record" "eip" {
  for_each = aws_eip.service

  zone_id                          = local.dns_zone_id
  name                             = var.dns.name
  type                             = "A"
  ttl                              = var.dns.ttl
  records                          = [each.value.public_ip]
  set_identifier                   = "${var.name_prefix}${each.key}"
  multivalue_answer_routing_policy = true
  health_check_id                  = aws_route53_health_check.eip[each.key].id
}
