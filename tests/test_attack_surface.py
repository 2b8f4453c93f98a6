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
from hacompile.plan import security
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


MOD = "terraform/modules/haproxy-ha/"  # the module every region's root calls


def _plain(value: Any) -> Any:
    """python-hcl2's values as Python data: literal strings unquoted, expressions kept."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and len(value) > 1 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _args(files: dict[str, str], region: str) -> dict[str, Any]:
    """What `region`'s root passes to the module (terraform/<region>/main.tf)."""
    import hcl2
    from hcl2.utils import SerializationOptions

    doc = hcl2.loads(
        files[f"terraform/{region}/main.tf"],
        serialization_options=SerializationOptions(with_comments=False),
    )
    (call,) = doc["module"]
    args: dict[str, Any] = _plain(call['"ha"'])
    return args


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
    lookup = _block(files[MOD + "instances.tf"], 'data "aws_ami" "lb"')
    assert "owners      = [var.lb_ami_filter.owner]" in lookup
    assert re.search(
        r'name += "product-code"\s+values = \[var\.lb_ami_filter\.product_code\]', lookup
    )
    assert _args(files, "us-east-1")["lb_ami_filter"] == {
        "owner": "aws-marketplace",
        "name": "hapee-ubuntu-*-amd64-hvm-1.8*",
        "architecture": "x86_64",
        "product_code": CODE,
    }


def test_the_spec_overrides_the_product_code(tmp_path: Path) -> None:
    mine = "abcdefghijklmnopqrstu1234"
    files = _files(_spec(tmp_path, BLOG, _hapee("1.8", mine)))
    assert _args(files, "us-east-1")["lb_ami_filter"]["product_code"] == mine
    assert CODE not in files["terraform/us-east-1/main.tf"]


def test_a_hapee_version_without_a_known_code_needs_the_override(tmp_path: Path) -> None:
    spec = _spec(tmp_path, BLOG, _hapee("3.0"))
    result = run_cli("build", str(spec), "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert re.search(
        r"ha\.yaml:\d+:\d+: error: load_balancers\.hapee_version: .*product code "
        r"of HAProxy Enterprise 3\.0.*ami_product_code",
        result.stderr,
    )
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_community_refuses_a_product_code(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["load_balancers"]["ami_product_code"] = CODE

    with pytest.raises(SpecError) as caught:
        compile_spec(_spec(tmp_path, MULTI, change))
    assert any(
        d.path == "load_balancers.ami_product_code" and "Canonical" in d.message
        for d in caught.value.diagnostics
    )


def test_the_community_lookup_keeps_canonicals_owner() -> None:
    files = _files(MULTI)
    lookup = _block(files[MOD + "instances.tf"], 'data "aws_ami" "lb"')
    assert "product-code" not in lookup and "product_code" not in files[MOD + "variables.tf"]
    assert _args(files, "eu-west-1")["lb_ami_filter"]["owner"] == "099720109477"


@pytest.mark.parametrize("base", [BLOG, MULTI])
def test_a_pinned_ami_means_no_lookup_in_that_region(tmp_path: Path, base: Path) -> None:
    pin = "ami-0123456789abcdef0"

    def change(data: dict[str, Any]) -> None:
        data["regions"][0]["ami_id"] = pin
        if base == BLOG:  # pinned everywhere: no product code needed for 3.0
            data["load_balancers"].pop("ami_product_code")

    files = _files(_spec(tmp_path, base, change))
    first = "us-east-1" if base == BLOG else "eu-west-1"
    assert _args(files, first)["lb_ami_id"] == pin
    assert "lb_ami_id" not in files[f"terraform/{first}/variables.tf"]
    module = files[MOD + "instances.tf"]
    if base == BLOG:  # pinned everywhere: the module has no lookup at all
        assert 'data "aws_ami" "lb"' not in module
        assert "ami                         = var.lb_ami_id\n" in module
    else:  # the other region still looks its image up: only where lb_ami_id is null
        assert _args(files, "us-east-2")["lb_ami_id"] == "${var.lb_ami_id}"
        lookup = _block(module, 'data "aws_ami" "lb"')
        assert "count = var.lb_ami_id == null ? 1 : 0" in lookup


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
        assert write["Condition"] == {
            "StringEquals": {
                "aws:ResourceTag/hacompile:deployment": "${aws:PrincipalTag/hacompile:deployment}"
            }
        }
        args = _args(files, region)
        assert args["deployment_tag_key"] == "hacompile:deployment"
        assert args["name_prefix"] == f"shop-{region}-"
        assert args["eip_failover_policy"] == '${file("${path.module}/policies/eip-failover.json")}'
        iam = files[MOD + "iam.tf"]
        assert 'resource "terraform_data" "deployment" {}' in iam
        assert 'deployment_tag = "${var.name_prefix}${terraform_data.deployment.id}"' in iam
        role = _block(iam, 'resource "aws_iam_role" "lb"')
        assert "(var.deployment_tag_key) = local.deployment_tag" in role
        assert "policy = var.eip_failover_policy" in iam
        eips = _block(files[MOD + "eips.tf"], 'resource "aws_eip" "service"')
        assert re.search(r"\(var\.deployment_tag_key\) += local\.deployment_tag", eips)
        eni = _block(files[MOD + "instances.tf"], 'resource "aws_ec2_tag" "lb_eni_deployment"')
        assert "key         = var.deployment_tag_key" in eni
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
    network = files[MOD + "network.tf"]
    flow = _block(network, 'resource "aws_flow_log" "main"')
    assert 'log_destination_type     = "cloud-watch-logs"' in flow
    assert "iam_role_arn             = aws_iam_role.flow_logs.arn" in flow
    group = _block(network, 'resource "aws_cloudwatch_log_group" "flow_logs"')
    assert "retention_in_days = var.flow_logs.retention_days" in group
    assert _args(files, "us-west-2")["flow_logs"]["retention_days"] == 365
    assert "checkov:skip=CKV2_AWS_11" not in network
    trust = json.loads(files["terraform/us-west-2/policies/flow-logs-assume-role.json.tftpl"])
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "${account_id}"}
    assert statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": "arn:aws:ec2:us-west-2:${account_id}:vpc-flow-log/*"
    }
    delivery = json.loads(files["terraform/us-west-2/policies/flow-logs-delivery.json"])
    writes = delivery["Statement"][0]
    assert "logs:CreateLogGroup" not in json.dumps(delivery)
    assert all("log-group:/hacompile/api/us-west-2/vpc-flow-logs" in r for r in writes["Resource"])


def test_flow_logs_to_s3_need_no_role(tmp_path: Path) -> None:
    bucket = "arn:aws:s3:::my-flow-logs/api"

    def change(data: dict[str, Any]) -> None:
        data["security"] = {"flow_logs": {"destination": "s3", "s3_bucket_arn": bucket}}

    files = _files(_spec(tmp_path, THREE, change))
    network = files[MOD + "network.tf"]
    flow = _block(network, 'resource "aws_flow_log" "main"')
    assert "log_destination          = var.flow_logs_bucket_arn" in flow
    assert "iam_role_arn" not in flow
    assert _args(files, "us-west-2")["flow_logs_bucket_arn"] == bucket
    assert "aws_cloudwatch_log_group" not in network
    assert not any("flow-logs" in path for path in files)


def test_flow_logs_to_s3_without_a_bucket_is_a_located_error(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["security"] = {"flow_logs": {"destination": "s3"}}

    result = run_cli("validate", str(_spec(tmp_path, THREE, change)))
    assert result.returncode == 2
    assert re.search(
        r"ha\.yaml:\d+:\d+: error: security\.flow_logs\.destination: .*"
        r"s3_bucket_arn",
        result.stderr,
    )


def test_flow_logs_off_is_an_accepted_finding(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["security"] = {"flow_logs": {"destination": "none"}}

    files = _files(_spec(tmp_path, THREE, change))
    network = files[MOD + "network.tf"]
    assert "aws_flow_log" not in network and "flow_logs" not in files[MOD + "variables.tf"]
    vpc = network[network.index("#trivy:ignore:AVD-AWS-0178") :]
    assert vpc.split("\n")[1] == 'resource "aws_vpc" "main" {'
    assert "checkov:skip=CKV2_AWS_11" in vpc
    assert "AVD-AWS-0178" in files["README.md"]


# ---- egress -------------------------------------------------------------------------------


def test_load_balancer_egress_is_what_the_tier_needs() -> None:
    rules = _args(_files(THREE), "us-west-2")["lb_egress"]
    assert set(rules) == {
        "backend1",
        "backend2",
        "backend3",
        "vrrp",
        "dns_udp",
        "dns_tcp",
        "https",
        "http",
    }
    assert rules["backend1"] | {"description": ""} == {
        "description": "",
        "protocol": "tcp",
        "from_port": 8080,
        "to_port": 8080,
        "cidr": "10.60.20.11/32",
    }
    assert rules["backend3"]["cidr"] == "10.60.0.0/16"  # a DNS name: the VPC
    assert rules["backend3"]["from_port"] == 8443
    assert rules["vrrp"] == {
        "description": "VRRP adverts to the other load balancers",
        "protocol": "112",
        "to_group": "lb",
    }
    assert rules["dns_udp"]["cidr"] == "10.60.0.2/32"
    assert not any(rule["protocol"] == "-1" for rule in rules.values())


def _ignores(text: str, resource: str) -> list[str]:
    """The comment lines directly above `resource`'s block."""
    before = text.split(f'resource "aws_vpc_security_group_egress_rule" "{resource}"')[0]
    lines = before.rstrip("\n").split("\n")
    above = []
    while lines and lines[-1].startswith("#"):
        above.insert(0, lines.pop())
    return above


def test_demo_backends_reach_only_mirrors_and_dns() -> None:
    files = _files(MULTI)
    args = _args(files, "eu-west-1")
    assert set(args["backend_egress"]) == {"dns_udp", "dns_tcp", "https", "http"}
    assert args["lb_egress"]["backends"]["to_group"] == "backend"
    text = files[MOD + "security.tf"]
    assert "backend = aws_security_group.backend.id" in text
    # each rule to the internet carries its own trivy ignore, scoped to its key, with its reason
    lb = _ignores(text, "lb_egress")
    assert [line.split(" ")[0] for line in lb] == [
        "#trivy:ignore:AVD-AWS-0104[each.key=https]",
        "#trivy:ignore:AVD-AWS-0104[each.key=http]",
    ]
    assert lb[0].endswith("accepted for https: " + security.HTTPS_WHY)
    backend = _ignores(text, "backend_egress")
    assert backend[0].endswith("accepted for https: " + security.MIRRORS_WHY)


def test_the_spec_adds_egress_or_opens_it(tmp_path: Path) -> None:
    def allow(data: dict[str, Any]) -> None:
        data["security"] = {"egress": {"allow": [{"cidr": "10.70.0.0/16", "port": 5432}]}}

    rules = _args(_files(_spec(tmp_path, THREE, allow)), "us-west-2")["lb_egress"]
    assert rules["allow1"]["cidr"] == "10.70.0.0/16" and rules["allow1"]["to_port"] == 5432

    def unrestricted(data: dict[str, Any]) -> None:
        data["security"] = {"egress": {"unrestricted": True}}

    files = _files(_spec(tmp_path, MULTI, unrestricted))
    args = _args(files, "eu-west-1")
    assert set(args["lb_egress"]) == set(args["backend_egress"]) == {"all"}
    everything = args["lb_egress"]["all"]
    assert everything["protocol"] == "-1" and "from_port" not in everything
    body = _block(
        files[MOD + "security.tf"], 'resource "aws_vpc_security_group_egress_rule" "lb_egress"'
    )
    assert "checkov:skip=CKV_AWS_382" in body
    assert "security.egress.unrestricted" in files["README.md"]


# ---- the EC2 API endpoint -----------------------------------------------------------------


def _endpoint(data: dict[str, Any]) -> None:
    data["security"] = {"ec2_endpoint": True}


def test_without_the_endpoint_the_bundle_has_none() -> None:
    files = _files(MULTI)
    assert "ec2_endpoint" not in "".join(v for k, v in files.items() if k.startswith(MOD))
    assert (
        _args(files, "eu-west-1")["lb_egress"]["https"]["description"]
        == "HTTPS: EC2 API and package mirrors"
    )


def test_the_ec2_endpoint_serves_the_lb_subnets_to_the_lbs_only(tmp_path: Path) -> None:
    files = _files(_spec(tmp_path, MULTI, _endpoint))
    for region in ("eu-west-1", "us-east-2"):
        args = _args(files, region)
        assert args["ec2_endpoint_service"] == f"com.amazonaws.{region}.ec2"
        assert args["names"]["ec2_endpoint_group"] == "shop-ec2-endpoint"
        rules = args["lb_egress"]
        assert rules["ec2_endpoint"] == {
            "description": "HTTPS: the EC2 API endpoint",
            "protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "to_group": "ec2_endpoint",
        }
        # HTTPS anywhere stays for the package mirrors, with the mirrors' reason
        assert rules["https"]["description"] == "HTTPS: package mirrors"
    network = files[MOD + "network.tf"]
    endpoint = _block(network, 'resource "aws_vpc_endpoint" "ec2"')
    assert 'vpc_endpoint_type   = "Interface"' in endpoint
    assert "private_dns_enabled = true" in endpoint
    assert "subnet_ids          = values(local.subnet_ids)" in endpoint
    groups_tf = files[MOD + "security.tf"]
    ingress = _block(
        groups_tf, 'resource "aws_vpc_security_group_ingress_rule" "ec2_endpoint_from_lb"'
    )
    assert "referenced_security_group_id = aws_security_group.lb.id" in ingress
    assert "from_port                    = 443" in ingress and "cidr_ipv4" not in ingress
    assert 'aws_vpc_security_group_egress_rule" "ec2_endpoint' not in groups_tf
    reason = next(
        line
        for line in groups_tf.splitlines()
        if line.startswith("#trivy:ignore:AVD-AWS-0104[each.key=https]")
    )
    assert reason.endswith(security.MIRRORS_WHY)
    assert "the EC2 API endpoint's group" in files["README.md"]


@pytest.mark.tools
def test_real_terraform_plans_the_endpoint(tmp_path: Path) -> None:
    from hacompile.verify.base import Status
    from hacompile.verify.runner import run_checks
    from hacompile.write import write

    out = tmp_path / "out"
    write(compile_spec(_spec(tmp_path, MULTI, _endpoint)).bundle, out)
    results = {r.name: r for r in run_checks(out, ["terraform", "terraform-real", "trivy"])}
    for name, result in results.items():
        assert result.status in (Status.PASSED, Status.UNAVAILABLE), (name, result)
