"""Issue 14, DNS: `dns` gives every EIP a multivalue A record behind a Route 53 health check of a
frontend; validation is located; explain and the bundle README state the DNS part of the
timeline; real Terraform plans it (where the binary is present)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hacompile.pipeline import compile_spec
from tests.conftest import ROOT, invoke_cli
from tests.test_attack_surface import MOD, _args, _block, _files

MULTI = ROOT / "blueprints" / "community-multi-region.yaml"
THREE = ROOT / "blueprints" / "three-lb-existing-backends.yaml"


def _spec(tmp_path: Path, dns: Any, base: Path = MULTI) -> Path:
    data = yaml.safe_load(base.read_text())
    data["dns"] = dns
    path = tmp_path / "ha.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


GOOD = {
    "zone": "example.com",
    "name": "shop.example.com",
    "health_check": {"frontend": "http", "path": "/", "interval": 10},
}


def test_without_dns_the_bundle_has_no_route53() -> None:
    files = _files(MULTI)
    assert MOD + "dns.tf" not in files
    assert 'variable "dns"' not in files[MOD + "variables.tf"]
    assert "Publish the EIPs (`terraform output eips`) in DNS." in files["README.md"]


def test_every_eip_gets_a_health_checked_multivalue_record(tmp_path: Path) -> None:
    files = _files(_spec(tmp_path, GOOD))
    for region in ("eu-west-1", "us-east-2"):
        assert _args(files, region)["dns"] == {
            "zone_name": "example.com",
            "name": "shop.example.com",
            "ttl": 60,
            "health_check": {
                "type": "HTTP",
                "port": 80,
                "path": "/",
                "interval": 10,
                "failure_threshold": 3,
            },
        }
    dns = files[MOD + "dns.tf"]
    record = _block(dns, 'resource "aws_route53_record" "eip"')
    assert "for_each = aws_eip.service" in record
    assert "multivalue_answer_routing_policy = true" in record
    assert "records                          = [each.value.public_ip]" in record
    assert "health_check_id                  = aws_route53_health_check.eip[each.key].id" in record
    assert 'set_identifier                   = "${var.name_prefix}${each.key}"' in record
    check = _block(dns, 'resource "aws_route53_health_check" "eip"')
    assert "ip_address        = each.value.public_ip" in check
    lookup = _block(dns, 'data "aws_route53_zone" "dns"')
    assert "private_zone = false" in lookup
    # only the deploying principal writes Route 53: the load balancers' policy has no route53
    assert "route53" not in files["terraform/eu-west-1/policies/eip-failover.json"]


def test_a_zone_id_needs_no_lookup_and_tcp_frontends_are_checked_by_connecting(
    tmp_path: Path,
) -> None:
    dns = {
        "zone_id": "Z0123456789ABCDEFGHIJ",
        "name": "api.example.net",
        "ttl": 30,
        "health_check": {"frontend": "https", "failure_threshold": 2},
    }
    files = _files(_spec(tmp_path, dns, THREE))
    assert _args(files, "us-west-2")["dns"] == {
        "zone_id": "Z0123456789ABCDEFGHIJ",
        "name": "api.example.net",
        "ttl": 30,
        "health_check": {"type": "TCP", "port": 443, "interval": 30, "failure_threshold": 2},
    }
    assert 'data "aws_route53_zone"' not in files[MOD + "dns.tf"]


def test_explain_and_the_readme_state_the_dns_timeline(tmp_path: Path) -> None:
    spec = _spec(tmp_path, GOOD)
    result = invoke_cli("explain", str(spec))
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert (
        "leaves the answers within 10 s x 3 failed checks (HTTP GET / on port 80) + 60 s "
        "TTL = 90 s" in text
    )
    readme = compile_spec(spec).bundle.by_path()["README.md"].content.decode()
    assert "+ 60 s TTL = 90 s" in readme
    assert "Terraform publishes the EIPs in Route 53 as `shop.example.com`" in readme


@pytest.mark.parametrize(
    ("dns", "field", "words"),
    [
        ({**GOOD, "zone_id": "Z123"}, "dns", "not both"),
        ({k: v for k, v in GOOD.items() if k != "zone"}, "dns", "not neither"),
        ({**GOOD, "name": "shop.example.org"}, "dns.name", "is not in the zone example.com"),
        (
            {**GOOD, "health_check": {"frontend": "web"}},
            "dns.health_check.frontend",
            "no frontend 'web'",
        ),
        ({**GOOD, "name": "Shop_Example"}, "dns.name", "is no DNS name"),
        (
            {**GOOD, "health_check": {"frontend": "http", "interval": 20}},
            "dns.health_check.interval",
            "",
        ),
    ],
)
def test_a_bad_dns_section_is_a_located_error(
    tmp_path: Path, dns: Any, field: str, words: str
) -> None:
    result = invoke_cli("validate", str(_spec(tmp_path, dns)))
    assert result.returncode == 2, result.stdout
    line = next(x for x in result.stderr.splitlines() if f"error: {field}:" in x)
    assert re.match(re.escape(str(tmp_path / "ha.yaml")) + r":\d+:\d+: ", line)
    assert words in line, result.stderr


def test_a_path_on_a_tcp_frontend_is_refused(tmp_path: Path) -> None:
    dns = {
        "zone": "example.net",
        "name": "api.example.net",
        "health_check": {"frontend": "https", "path": "/health"},
    }
    result = invoke_cli("validate", str(_spec(tmp_path, dns, THREE)))
    assert result.returncode == 2
    assert "error: dns.health_check.path: frontend https is tcp" in result.stderr


@pytest.mark.tools
def test_real_terraform_and_the_scanners_accept_the_records(tmp_path: Path) -> None:
    from hacompile.verify.base import Status
    from hacompile.verify.runner import run_checks
    from hacompile.write import write

    out = tmp_path / "out"
    write(compile_spec(_spec(tmp_path, GOOD)).bundle, out)
    results = run_checks(out, ["terraform", "terraform-real", "checkov", "trivy"])
    for result in results:
        assert result.status in (Status.PASSED, Status.UNAVAILABLE), result


ROUTED = {**GOOD, "routing": "failover", "primary": "us-east-2"}


@pytest.mark.parametrize("routing", ["latency", "failover"])
def test_routing_across_regions_aliases_each_regions_own_set(tmp_path: Path, routing: str) -> None:
    dns = {**GOOD, "routing": routing} | ({"primary": "us-east-2"} if routing == "failover" else {})
    files = _files(_spec(tmp_path, dns))
    for region, role in (("eu-west-1", "SECONDARY"), ("us-east-2", "PRIMARY")):
        value = _args(files, region)["dns"]
        assert value["name"] == "shop.example.com"
        assert value["record_name"] == f"{region}.shop.example.com"
        assert value["routing"] == routing
        if routing == "failover":
            assert value["failover"] == role
        else:
            assert value["latency_region"] == region
    module = files[MOD + "dns.tf"]
    record = _block(module, 'resource "aws_route53_record" "eip"')
    assert "name                             = var.dns.record_name" in record
    alias = _block(module, 'resource "aws_route53_record" "region"')
    assert "evaluate_target_health = true" in alias
    policy = "failover_routing_policy" if routing == "failover" else "latency_routing_policy"
    other = "latency_routing_policy" if routing == "failover" else "failover_routing_policy"
    assert policy in alias and other not in alias
    text = " ".join(invoke_cli("explain", str(tmp_path / "ha.yaml")).stdout.split())
    assert f"Routing: {routing}." in text


def test_multivalue_routing_is_what_it_was(tmp_path: Path) -> None:
    module = _files(_spec(tmp_path, {**GOOD, "routing": "multivalue"}))[MOD + "dns.tf"]
    assert 'resource "aws_route53_record" "region"' not in module
    assert "record_name" not in module


@pytest.mark.parametrize(
    ("dns", "base", "field", "words"),
    [
        (
            {**GOOD, "routing": "latency"},
            ROOT / "blueprints" / "routed-pools.yaml",
            "dns.routing",
            "chooses between regions, and the spec has one",
        ),
        (
            {**GOOD, "routing": "latency", "primary": "eu-west-1"},
            MULTI,
            "dns.primary",
            "only failover routing has a primary",
        ),
        (
            {**ROUTED, "primary": "ap-south-1"},
            MULTI,
            "dns.primary",
            "ap-south-1 is not a region of this spec",
        ),
    ],
)
def test_bad_routing_is_a_located_error(
    tmp_path: Path, dns: Any, base: Path, field: str, words: str
) -> None:
    if base.stem == "routed-pools":
        dns = {**dns, "health_check": {"frontend": "http", "path": "/", "interval": 10}}
    result = invoke_cli("validate", str(_spec(tmp_path, dns, base)))
    assert result.returncode == 2, result.stdout
    line = next(x for x in result.stderr.splitlines() if f"error: {field}:" in x)
    assert re.match(re.escape(str(tmp_path / "ha.yaml")) + r":\d+:\d+: ", line)
    assert words in line, result.stderr


@pytest.mark.tools
def test_real_terraform_plans_failover_routing(tmp_path: Path) -> None:
    from hacompile.verify.base import Status
    from hacompile.verify.runner import run_checks
    from hacompile.write import write

    out = tmp_path / "out"
    write(compile_spec(_spec(tmp_path, ROUTED)).bundle, out)
    results = run_checks(out, ["terraform", "terraform-real", "checkov", "trivy"])
    for result in results:
        assert result.status in (Status.PASSED, Status.UNAVAILABLE), result
