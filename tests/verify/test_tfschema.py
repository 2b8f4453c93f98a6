"""Tests for the offline Terraform schema checker (hacompile.verify.tfschema).

Each finding kind gets a minimal snippet that triggers it, asserted by message text, so removing
the check makes its test fail; the tf_good fixture proves modern provider-6 code passes clean.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from hacompile.verify.tfrefs import extract_refs
from hacompile.verify.tfschema import Finding, check_terraform_dir, load_schema

GOOD = Path(__file__).parent / "fixtures" / "tf_good"

BASE = """
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}
"""


def check(tmp_path: Path, snippet: str) -> tuple[Finding, ...]:
    (tmp_path / "base.tf").write_text(BASE, encoding="utf-8")
    (tmp_path / "main.tf").write_text(snippet, encoding="utf-8")
    return check_terraform_dir(tmp_path)


def messages(findings: tuple[Finding, ...]) -> list[str]:
    return [f"{f.path}:{f.block}: {f.message}" for f in findings]


def only(findings: tuple[Finding, ...], needle: str) -> Finding:
    """Exactly one finding, and it mentions needle."""
    assert len(findings) == 1, messages(findings)
    assert needle in findings[0].message, messages(findings)
    return findings[0]


def test_good_fixture_has_no_findings() -> None:
    assert len(list(GOOD.glob("*.tf"))) >= 5
    assert messages(check_terraform_dir(GOOD)) == []


def test_base_snippet_is_clean(tmp_path: Path) -> None:
    assert check(tmp_path, "") == ()


def test_typo_argument_suggests_the_right_name(tmp_path: Path) -> None:
    f = only(
        check(tmp_path, 'resource "aws_instance" "lb" {\n  instance_tpye = "t3.small"\n}\n'),
        "instance_tpye: unsupported argument; did you mean 'instance_type'?",
    )
    assert f == Finding(path="main.tf", message=f.message, block="aws_instance.lb")


def test_typo_inside_nested_block(tmp_path: Path) -> None:
    snippet = (
        'resource "aws_instance" "lb" {\n  metadata_options {\n'
        '    http_token = "required"\n  }\n}\n'
    )
    only(check(tmp_path, snippet), "metadata_options.http_token: unsupported argument")


def test_missing_required_argument(tmp_path: Path) -> None:
    only(
        check(tmp_path, 'resource "aws_iam_role" "r" {\n  name = "x"\n}\n'),
        "assume_role_policy: required argument is missing",
    )


def test_missing_required_argument_in_nested_block(tmp_path: Path) -> None:
    snippet = (
        'data "aws_iam_policy_document" "p" {\n  statement {\n'
        '    principals {\n      type = "Service"\n    }\n  }\n}\n'
    )
    only(check(tmp_path, snippet), "statement.principals.identifiers: required argument")


def test_block_written_as_argument(tmp_path: Path) -> None:
    snippet = (
        'resource "aws_instance" "lb" {\n  metadata_options = { http_tokens = "required" }\n}\n'
    )
    only(check(tmp_path, snippet), "metadata_options: is a block")


def test_argument_written_as_block(tmp_path: Path) -> None:
    snippet = 'resource "aws_instance" "lb" {\n  tags {\n    Name = "x"\n  }\n}\n'
    only(check(tmp_path, snippet), "tags: is an argument")


def test_single_block_repeated(tmp_path: Path) -> None:
    snippet = (
        'resource "aws_instance" "lb" {\n'
        "  root_block_device {\n    encrypted = true\n  }\n"
        "  root_block_device {\n    volume_size = 20\n  }\n}\n"
    )
    only(check(tmp_path, snippet), "at most one `root_block_device` block")


def test_repeatable_block_may_repeat(tmp_path: Path) -> None:
    snippet = (
        'resource "aws_instance" "lb" {\n'
        '  ebs_block_device {\n    device_name = "/dev/sdf"\n  }\n'
        '  ebs_block_device {\n    device_name = "/dev/sdg"\n  }\n}\n'
    )
    assert check(tmp_path, snippet) == ()


def test_computed_only_attribute_set(tmp_path: Path) -> None:
    snippet = 'resource "aws_instance" "lb" {\n  public_ip = "198.51.100.7"\n}\n'
    only(check(tmp_path, snippet), "public_ip: is computed by the provider")


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('source_dest_check = "false"', "expects bool, got a string literal"),
        ('vpc_security_group_ids = "sg-1"', "expects set(string), got a string literal"),
        ('ipv6_address_count = "2"', "expects number, got a string literal"),
        ('tags = ["a"]', "expects map(string), got a list literal"),
        ("instance_type = t3", "bare word `t3` is not a value"),
    ],
)
def test_type_mismatch_on_literals(tmp_path: Path, line: str, needle: str) -> None:
    only(check(tmp_path, f'resource "aws_instance" "lb" {{\n  {line}\n}}\n'), needle)


def test_number_literal_for_string_is_converted_not_flagged(tmp_path: Path) -> None:
    snippet = 'resource "aws_instance" "lb" {\n  instance_type = 5\n  monitoring = var.x\n}\n'
    snippet += 'variable "x" {\n  type = bool\n}\n'
    assert check(tmp_path, snippet) == ()


def test_removed_vpc_on_eip(tmp_path: Path) -> None:
    only(
        check(tmp_path, 'resource "aws_eip" "vip" {\n  vpc = true\n}\n'),
        'vpc: removed in provider 6: use domain = "vpc"',
    )


def test_removed_cpu_core_count_on_instance(tmp_path: Path) -> None:
    snippet = 'resource "aws_instance" "lb" {\n  cpu_core_count = 2\n}\n'
    only(check(tmp_path, snippet), "cpu_core_count: removed in provider 6")


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("aws_vpc.missing.id", "aws_vpc.missing is not declared"),
        ("data.aws_ami.nope.id", "data.aws_ami.nope is not declared"),
        ("var.nope", "no variable 'nope' is declared"),
        ("local.nope", "no local value 'nope' is declared"),
        ("module.nope.x", "no module 'nope' is declared"),
        ('"${aws_vpc.missing.id}-x"', "aws_vpc.missing is not declared"),
        ("jsonencode({ a = [aws_vpc.missing.arn] })", "aws_vpc.missing is not declared"),
    ],
)
def test_dangling_reference(tmp_path: Path, expr: str, needle: str) -> None:
    f = only(check(tmp_path, f'output "o" {{\n  value = {expr}\n}}\n'), needle)
    assert f.block == "output.o"


def test_unknown_attribute_of_a_reference(tmp_path: Path) -> None:
    snippet = (
        'resource "aws_eip" "vip" {\n  domain = "vpc"\n}\n'
        'output "o" {\n  value = aws_eip.vip.public_ipv4\n}\n'
    )
    only(
        check(tmp_path, snippet),
        "aws_eip has no attribute 'public_ipv4'; did you mean 'public_ip'?",
    )


def test_unindexed_reference_to_counted_resource(tmp_path: Path) -> None:
    snippet = (
        'resource "aws_instance" "lb" {\n  count = 2\n}\n'
        'output "o" {\n  value = aws_instance.lb.id\n}\n'
    )
    only(check(tmp_path, snippet), "aws_instance.lb uses count/for_each; index it")


def test_indexed_reference_to_uncounted_resource(tmp_path: Path) -> None:
    only(
        check(tmp_path, 'output "o" {\n  value = aws_vpc.main[0].id\n}\n'),
        "aws_vpc.main has no count/for_each and must not be indexed",
    )


def test_counted_references_in_all_valid_forms(tmp_path: Path) -> None:
    snippet = (
        'resource "aws_instance" "lb" {\n  count = 2\n}\n'
        'output "a" {\n  value = aws_instance.lb[0].id\n}\n'
        'output "b" {\n  value = aws_instance.lb[*].private_ip\n}\n'
        'output "c" {\n  value = [for i in aws_instance.lb : i.arn]\n}\n'
        'output "d" {\n  value = length(aws_instance.lb)\n}\n'
    )
    assert check(tmp_path, snippet) == ()


def test_unknown_resource_type(tmp_path: Path) -> None:
    only(
        check(tmp_path, 'resource "aws_lb" "front" {\n  name = "x"\n}\n'),
        'resource type "aws_lb" is not in the snapshot',
    )


def test_dynamic_block_content_is_checked(tmp_path: Path) -> None:
    snippet = (
        'resource "aws_security_group" "sg" {\n  dynamic "ingress" {\n'
        "    for_each = [22, 443]\n    content {\n      from_port = ingress.value\n"
        '      to_port = ingress.value\n      protocol = "tcp"\n      cidr_block = "x"\n'
        "    }\n  }\n}\n"
    )
    only(check(tmp_path, snippet), "ingress.cidr_block: unsupported argument")


def test_duplicate_declaration(tmp_path: Path) -> None:
    only(
        check(tmp_path, 'resource "aws_vpc" "main" {\n  cidr_block = "10.1.0.0/16"\n}\n'),
        "more than once",
    )


def test_provider_block_references_are_checked(tmp_path: Path) -> None:
    only(check(tmp_path, 'provider "aws" {\n  region = var.region\n}\n'), "no variable 'region'")


def test_parse_error_is_a_finding(tmp_path: Path) -> None:
    only(check(tmp_path, 'resource "aws_vpc" {\n'), "HCL parse error")


def test_reference_extraction_ignores_literals_and_scoped_names() -> None:
    value = '"${jsonencode({ a = "x.y" })} $${var.nope} %{for s in var.l}${s.id}%{endfor}"'
    assert [r.text for r in extract_refs(value)] == ["var.l"]


def test_snapshot_records_package_and_every_required_type() -> None:
    ref = resources.files("hacompile.verify") / "data" / "aws_provider_schema.json"
    raw = json.loads(ref.read_text(encoding="utf-8"))
    assert raw["package"]["name"] in ("@cdktn/provider-aws", "@cdktf/provider-aws")
    assert raw["package"]["version"]
    assert raw["provider"]["version"].startswith("6.")
    schema = load_schema()
    resources_needed = [
        "aws_vpc",
        "aws_subnet",
        "aws_internet_gateway",
        "aws_route_table",
        "aws_route",
        "aws_route_table_association",
        "aws_security_group",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
        "aws_default_security_group",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_policy",
        "aws_iam_role_policy_attachment",
        "aws_iam_instance_profile",
        "aws_instance",
        "aws_eip",
        "aws_eip_association",
        "aws_network_interface",
        "aws_key_pair",
        "aws_flow_log",
        "aws_cloudwatch_log_group",
        "aws_ssm_parameter",
        "aws_launch_template",
    ]
    data_needed = [
        "aws_ami",
        "aws_availability_zones",
        "aws_iam_policy_document",
        "aws_caller_identity",
        "aws_partition",
        "aws_region",
    ]
    assert set(resources_needed) <= set(schema.resources)
    assert set(data_needed) <= set(schema.data_sources)
    assert schema.package == raw["package"]["name"]
    assert "vpc" in schema.removed["resource.aws_eip"]
    # Spot-check the exact Terraform names and attribute kinds the checker depends on.
    instance = schema.resources["aws_instance"]
    assert instance.attributes["get_password_data"].mode == "optional"
    assert instance.attributes["primary_network_interface_id"].mode == "computed"
    assert instance.blocks["metadata_options"].nesting == "single"
    assert instance.blocks["ebs_block_device"].nesting == "set"
    assert "json" in schema.data_sources["aws_iam_policy_document"].referenceable
    assert "allocation_id" in schema.resources["aws_eip"].referenceable
    assert len(ref.read_bytes()) < 1_000_000
