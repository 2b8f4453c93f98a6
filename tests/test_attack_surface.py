"""Issue 11, the bundle's attack surface: which AMI the load balancers may boot, what their role
may touch, whether the VPC keeps flow logs, and where each security group may connect to.

Every test compiles a spec (a blueprint, changed where the test says) and reads the rendered
bundle, as a reviewer of the Terraform would."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hacompile.errors import SpecError
from hacompile.pipeline import compile_spec
from tests.conftest import ROOT, run_cli

BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
MULTI = ROOT / "blueprints" / "community-multi-region.yaml"
THREE = ROOT / "blueprints" / "three-lb-existing-backends.yaml"
CODE = "483gxnuft87jy44d3q8n4kvt1"  # the blog's HAPEE 1.8 product code


def _spec(tmp_path: Path, base: Path, change: Any) -> Path:
    data = yaml.safe_load(base.read_text())
    change(data)
    path = tmp_path / "ha.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _files(spec: Path) -> dict[str, str]:
    return {path: f.content.decode() for path, f in compile_spec(spec).bundle.by_path().items()}


def _block(text: str, header: str) -> str:
    """The body of the top-level block that starts with `header` ('resource "a" "b"')."""
    start = text.index(header + " {")
    end = text.index("\n}\n", start)
    return text[start:end]


def _hapee(version: str, code: str | None = None) -> Any:
    def change(data: dict[str, Any]) -> None:
        lbs = data["load_balancers"]
        lbs.pop("ami_product_code", None)
        lbs["hapee_version"] = version
        if code is not None:
            lbs["ami_product_code"] = code
    return change


# ---- the HAPEE image ----------------------------------------------------------------------


def test_hapee_lookup_filters_by_the_marketplace_product_code(tmp_path: Path) -> None:
    files = _files(_spec(tmp_path, BLOG, _hapee("1.8")))
    lookup = _block(files["terraform/us-east-1/instances.tf"], 'data "aws_ami" "lb"')
    assert 'owners      = ["aws-marketplace"]' in lookup
    assert re.search(r'name += "product-code"\s+values = \["' + CODE + r'"\]', lookup)


def test_the_spec_overrides_the_product_code(tmp_path: Path) -> None:
    mine = "abcdefghijklmnopqrstu1234"
    files = _files(_spec(tmp_path, BLOG, _hapee("1.8", mine)))
    lookup = _block(files["terraform/us-east-1/instances.tf"], 'data "aws_ami" "lb"')
    assert f'values = ["{mine}"]' in lookup and CODE not in lookup


def test_a_hapee_version_without_a_known_code_needs_the_override(tmp_path: Path) -> None:
    spec = _spec(tmp_path, BLOG, _hapee("3.0"))
    result = run_cli("build", str(spec), "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert re.search(r"ha\.yaml:\d+:\d+: error: load_balancers\.hapee_version: .*product code "
                     r"of HAProxy Enterprise 3\.0.*ami_product_code", result.stderr)
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_community_refuses_a_product_code(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["load_balancers"]["ami_product_code"] = CODE
    with pytest.raises(SpecError) as caught:
        compile_spec(_spec(tmp_path, MULTI, change))
    assert any(d.path == "load_balancers.ami_product_code" and "Canonical" in d.message
               for d in caught.value.diagnostics)


def test_the_community_lookup_keeps_canonicals_owner() -> None:
    lookup = _block(_files(MULTI)["terraform/eu-west-1/instances.tf"], 'data "aws_ami" "lb"')
    assert 'owners      = ["099720109477"]' in lookup and "product-code" not in lookup


@pytest.mark.parametrize("base", [BLOG, MULTI])
def test_a_pinned_ami_means_no_lookup_in_that_region(tmp_path: Path, base: Path) -> None:
    pin = "ami-0123456789abcdef0"

    def change(data: dict[str, Any]) -> None:
        data["regions"][0]["ami_id"] = pin
        if base == BLOG:  # pinned everywhere: no product code needed for 3.0
            data["load_balancers"].pop("ami_product_code")
    files = _files(_spec(tmp_path, base, change))
    first = files["terraform/" + ("us-east-1" if base == BLOG else "eu-west-1") + "/instances.tf"]
    assert 'data "aws_ami" "lb"' not in first
    assert f'ami                         = "{pin}"' in first
    if base == MULTI:  # the other region still looks its image up
        assert 'data "aws_ami" "lb"' in files["terraform/us-east-2/instances.tf"]


@pytest.mark.parametrize("bad", ["ami-123", "ami-0123456789ABCDEF0", "0123456789abcdef0"])
def test_a_malformed_ami_id_is_a_located_error(tmp_path: Path, bad: str) -> None:
    def change(data: dict[str, Any]) -> None:
        data["regions"][0]["ami_id"] = bad
    result = run_cli("validate", str(_spec(tmp_path, MULTI, change)))
    assert result.returncode == 2
    assert re.search(r"ha\.yaml:\d+:\d+: error: regions\[0\]\.ami_id: .*AMI ID", result.stderr)


# ---- the IAM scope ------------------------------------------------------------------------


def test_the_eip_role_is_scoped_to_one_deployment() -> None:
    files = _files(MULTI)
    for region in ("eu-west-1", "us-east-2"):
        tf = f"terraform/{region}/"
        policy = json.loads(files[tf + "policies/eip-failover.json"])
        write = next(s for s in policy["Statement"] if "ec2:AssociateAddress" in s["Action"])
        assert write["Condition"] == {"StringEquals": {
            "aws:ResourceTag/hacompile:deployment": "${aws:PrincipalTag/hacompile:deployment}"}}
        iam = files[tf + "iam.tf"]
        assert 'resource "terraform_data" "deployment" {}' in iam
        assert f'deployment_tag = "shop-{region}-${{terraform_data.deployment.id}}"' in iam
        role = _block(iam, 'resource "aws_iam_role" "lb"')
        assert '"hacompile:deployment" = local.deployment_tag' in role
        eips = _block(files[tf + "eips.tf"], 'resource "aws_eip" "service"')
        assert re.search(r'"hacompile:deployment" = local\.deployment_tag', eips)
        eni = _block(files[tf + "instances.tf"], 'resource "aws_ec2_tag" "lb_eni_deployment"')
        assert 'key         = "hacompile:deployment"' in eni
        assert "value       = local.deployment_tag" in eni
        # the policy no longer trusts the cluster name, which another deployment can share
        assert "hacompile:cluster" not in json.dumps(policy)


def test_verify_knows_terraforms_builtin_terraform_data() -> None:
    # the schema checker of `hacompile verify` reads an AWS-only snapshot; terraform_data is
    # built into Terraform and must not be reported as an unknown resource type
    from hacompile.verify.tfmodel import load_schema_json, schema_from_json

    schema = schema_from_json(load_schema_json())
    found = schema.lookup("resource", "terraform_data")
    assert found is not None and "id" in found.referenceable
    assert schema.lookup("data", "terraform_data") is None


def test_the_bundle_readme_says_what_ec2_create_tags_still_allows() -> None:
    readme = _files(MULTI)["README.md"]
    assert "ec2:CreateTags" in readme and "SCP" in readme


# ---- flow logs ----------------------------------------------------------------------------


def test_flow_logs_go_to_cloudwatch_by_default() -> None:
    files = _files(THREE)
    network = files["terraform/us-west-2/network.tf"]
    flow = _block(network, 'resource "aws_flow_log" "main"')
    assert 'log_destination_type     = "cloud-watch-logs"' in flow
    assert "iam_role_arn             = aws_iam_role.flow_logs.arn" in flow
    group = _block(network, 'resource "aws_cloudwatch_log_group" "flow_logs"')
    assert "retention_in_days = 365" in group
    assert "checkov:skip=CKV2_AWS_11" not in network
    trust = json.loads(files["terraform/us-west-2/policies/flow-logs-assume-role.json.tftpl"])
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "${account_id}"}
    assert statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": "arn:aws:ec2:us-west-2:${account_id}:vpc-flow-log/*"}
    delivery = json.loads(files["terraform/us-west-2/policies/flow-logs-delivery.json"])
    writes = delivery["Statement"][0]
    assert "logs:CreateLogGroup" not in json.dumps(delivery)
    assert all("log-group:/hacompile/api/us-west-2/vpc-flow-logs" in r
               for r in writes["Resource"])


def test_flow_logs_to_s3_need_no_role(tmp_path: Path) -> None:
    bucket = "arn:aws:s3:::my-flow-logs/api"

    def change(data: dict[str, Any]) -> None:
        data["security"] = {"flow_logs": {"destination": "s3", "s3_bucket_arn": bucket}}
    files = _files(_spec(tmp_path, THREE, change))
    network = files["terraform/us-west-2/network.tf"]
    flow = _block(network, 'resource "aws_flow_log" "main"')
    assert f'log_destination          = "{bucket}"' in flow and "iam_role_arn" not in flow
    assert "aws_cloudwatch_log_group" not in network
    assert not any("flow-logs" in path for path in files)


def test_flow_logs_to_s3_without_a_bucket_is_a_located_error(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["security"] = {"flow_logs": {"destination": "s3"}}
    result = run_cli("validate", str(_spec(tmp_path, THREE, change)))
    assert result.returncode == 2
    assert re.search(r"ha\.yaml:\d+:\d+: error: security\.flow_logs\.destination: .*"
                     r"s3_bucket_arn", result.stderr)


def test_flow_logs_off_is_an_accepted_finding(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["security"] = {"flow_logs": {"destination": "none"}}
    files = _files(_spec(tmp_path, THREE, change))
    network = files["terraform/us-west-2/network.tf"]
    assert "aws_flow_log" not in network
    vpc = network[network.index("#trivy:ignore:AVD-AWS-0178"):]
    assert vpc.split("\n")[1] == 'resource "aws_vpc" "main" {'
    assert "checkov:skip=CKV2_AWS_11" in vpc
    assert "AVD-AWS-0178" in files["README.md"]


# ---- egress -------------------------------------------------------------------------------


def _egress(text: str) -> dict[str, str]:
    return {m.group(1): _block(text, f'resource "aws_vpc_security_group_egress_rule" '
                                     f'"{m.group(1)}"')
            for m in re.finditer(r'resource "aws_vpc_security_group_egress_rule" "(\w+)"', text)}


def test_load_balancer_egress_is_what_the_tier_needs() -> None:
    rules = _egress(_files(THREE)["terraform/us-west-2/security.tf"])
    assert set(rules) == {"lb_egress_backend1", "lb_egress_backend2", "lb_egress_backend3",
                          "lb_egress_vrrp", "lb_egress_dns_udp", "lb_egress_dns_tcp",
                          "lb_egress_https", "lb_egress_http"}
    assert '"10.60.20.11/32"' in rules["lb_egress_backend1"]
    assert "from_port         = 8080" in rules["lb_egress_backend1"]
    assert '"10.60.0.0/16"' in rules["lb_egress_backend3"]  # a DNS name: the VPC
    assert "from_port         = 8443" in rules["lb_egress_backend3"]
    assert "referenced_security_group_id = aws_security_group.lb.id" in rules["lb_egress_vrrp"]
    assert '"112"' in rules["lb_egress_vrrp"]
    assert '"10.60.0.2/32"' in rules["lb_egress_dns_udp"]
    assert not any('ip_protocol       = "-1"' in body for body in rules.values())


def test_demo_backends_reach_only_mirrors_and_dns() -> None:
    text = _files(MULTI)["terraform/eu-west-1/security.tf"]
    rules = _egress(text)
    assert {k for k in rules if k.startswith("backend_")} == {
        "backend_egress_dns_udp", "backend_egress_dns_tcp", "backend_egress_https",
        "backend_egress_http"}
    assert "referenced_security_group_id = aws_security_group.backend.id" in rules[
        "lb_egress_backends"]
    # each rule to the internet carries its trivy ignore, reason first
    for name in ("lb_egress_https", "lb_egress_http", "backend_egress_https"):
        before = text.split(f'resource "aws_vpc_security_group_egress_rule" "{name}"')[0]
        reason, ignore = before.rstrip().split("\n")[-2:]
        assert ignore == "#trivy:ignore:AVD-AWS-0104"
        assert reason.startswith("# trivy AVD-AWS-0104 accepted: ")


def test_the_spec_adds_egress_or_opens_it(tmp_path: Path) -> None:
    def allow(data: dict[str, Any]) -> None:
        data["security"] = {"egress": {"allow": [{"cidr": "10.70.0.0/16", "port": 5432}]}}
    rules = _egress(_files(_spec(tmp_path, THREE, allow))["terraform/us-west-2/security.tf"])
    assert '"10.70.0.0/16"' in rules["lb_egress_allow1"]

    def unrestricted(data: dict[str, Any]) -> None:
        data["security"] = {"egress": {"unrestricted": True}}
    files = _files(_spec(tmp_path, MULTI, unrestricted))
    text = files["terraform/eu-west-1/security.tf"]
    assert set(_egress(text)) == {"lb_egress_all", "backend_egress_all"}
    assert "checkov:skip=CKV_AWS_382" in _egress(text)["lb_egress_all"]
    assert "security.egress.unrestricted" in files["README.md"]
