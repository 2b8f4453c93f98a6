"""The `terraform-real` checker: real `terraform` fmt/validate/plan against the stand-in provider.

It passes on every blueprint's golden bundle and fails, naming the problem, on hand-made
mutations that only Terraform itself (or the plan comparison) catches. The tests that run
Terraform skip, with the reason, where no terraform >= 1.6 is on PATH; the "not available"
tests run everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hacompile.verify.base import CheckResult, Status, Unavailable
from hacompile.verify.runner import run_checks
from hacompile.verify.terraform import region_dirs
from hacompile.verify.tfreal import find_terraform

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted(p for p in (ROOT / "tests" / "golden").iterdir() if p.is_dir())
TF = "terraform/us-east-1/"
MOD = "terraform/modules/haproxy-ha/"  # the module the region roots call
Broken = Callable[[str, str, str], Path]


def _terraform_reason() -> str:
    """Why the checker cannot run here (its own "not available" message), or ""."""
    try:
        find_terraform()
    except Unavailable as exc:
        return str(exc)
    return ""


REASON = _terraform_reason()
needs_terraform = pytest.mark.skipif(bool(REASON), reason=REASON)


def real(bundle: Path) -> CheckResult:
    (result,) = run_checks(bundle, ["terraform-real"])
    return result


def line_of(bundle: Path, rel: str, needle: str) -> str:
    """`rel:N:` for the first line of `rel` holding `needle`: findings name the line, and the
    templates move it whenever a resource above it grows."""
    lines = (bundle / rel).read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if needle in line)
    return f"{Path(rel).name}:{number}:"


def failed_with(result: CheckResult, *needles: str) -> str:
    assert result.status is Status.FAILED, result
    text = "\n".join(result.findings)
    for needle in needles:
        assert needle in text, text
    return text


@pytest.mark.tools
@needs_terraform
@pytest.mark.parametrize("golden", GOLDEN, ids=[p.name for p in GOLDEN])
def test_passes_on_every_golden_bundle(golden: Path) -> None:
    before = sorted(str(p.relative_to(golden)) for p in golden.rglob("*"))
    result = real(golden)
    assert result.status is Status.PASSED, result
    modules = len(region_dirs(golden))
    assert f"of {modules} module(s)" in result.detail, result.detail
    compared = int(result.detail.rsplit("; ", 1)[1].split()[0])
    # every LB, EIP, port and CIDR was seen: 24 in the smallest bundle (existing-vpc: two
    # LBs, no SSH CIDRs with management ssm, existing backends), 44 and more elsewhere
    assert compared >= 24 * modules, result.detail
    assert sorted(str(p.relative_to(golden)) for p in golden.rglob("*")) == before


@pytest.mark.tools
@needs_terraform
def test_misspelled_function(broken_bundle: Broken) -> None:
    bundle = broken_bundle(MOD + "security.tf", "toset(var.ssh_cidrs)", "tosett(var.ssh_cidrs)")
    text = failed_with(
        real(bundle),
        MOD + line_of(bundle, MOD + "security.tf", "tosett("),
        "validate: Call to unknown function",
        'no function named "tosett"',
    )
    assert text.count("tosett") == 1  # found by the region root, said once


@pytest.mark.tools
@needs_terraform
def test_each_without_for_each(broken_bundle: Broken) -> None:
    bundle = broken_bundle(MOD + "eips.tf", "  for_each = toset(var.eips)\n", "")
    failed_with(
        real(bundle), "eips.tf:", 'validate: Reference to "each" in context without for_each'
    )


@pytest.mark.tools
@needs_terraform
def test_dependency_cycle(broken_bundle: Broken) -> None:
    bundle = broken_bundle(
        MOD + "network.tf",
        "  cidr_block           = var.vpc_cidr\n",
        "  cidr_block           = var.vpc_cidr\n  depends_on           = [aws_subnet.public]\n",
    )
    failed_with(real(bundle), "validate: Cycle:", "aws_vpc.main", "aws_subnet.public")


@pytest.mark.tools
@needs_terraform
def test_misspelled_provider_argument(broken_bundle: Broken) -> None:
    bundle = broken_bundle(TF + "providers.tf", '  region = "us-east-1"', '  regoin = "us-east-1"')
    failed_with(
        real(bundle),
        "providers.tf:2:",
        "validate: Unsupported argument",
        '"regoin" is not expected here',
    )


@pytest.mark.tools
@needs_terraform
def test_for_each_resource_indexed_by_a_missing_key(broken_bundle: Broken) -> None:
    bundle = broken_bundle(TF + "main.tf", 'lb1 = { subnet = "a"', 'lb1 = { subnet = "c"')
    failed_with(
        real(bundle),
        MOD + line_of(bundle, MOD + "instances.tf", "contains(keys(var.subnets)"),
        "plan: Resource precondition failed",
        "load_balancers.lb1.subnet names no key of var.subnets.",
    )


@pytest.mark.tools
@needs_terraform
def test_private_ip_differs_from_the_compilers_plan(broken_bundle: Broken) -> None:
    bundle = broken_bundle(TF + "main.tf", 'private_ip = "10.0.1.10"', 'private_ip = "10.0.1.20"')
    failed_with(
        real(bundle),
        'plan: aws_instance.lb["lb1"].private_ip is 10.0.1.20 in the plan, but the '
        "compiler planned 10.0.1.10 (keepalived_unicast_src_ip of "
        "hapee-blog-us-east-1-lb1)",
        'peers of aws_instance.lb["lb2"]) is [10.0.1.20]',
    )


@pytest.mark.tools
@needs_terraform
def test_slot_ip_outside_the_subnet_and_port_differ(broken_bundle: Broken) -> None:
    broken_bundle(TF + "main.tf", '"10.0.2.11", "10.0.2.12"', '"10.0.2.11", "10.0.9.12"')
    broken_bundle("ansible/inventory/hacompile.yml", "slot_ip: 10.0.2.12", "slot_ip: 10.0.9.12")
    bundle = broken_bundle(TF + "main.tf", "webapp = 80", "webapp = 8080")
    failed_with(
        real(bundle),
        "hapee-blog-us-east-1-lb2 slot IP 10.0.9.12 (from ansible/inventory/hacompile.yml)"
        " is in no planned subnet",
        'lb_frontend["webapp"].from_port is 8080 in the plan, but the compiler planned 80',
    )


@pytest.mark.tools
@needs_terraform
def test_unformatted_file(broken_bundle: Broken) -> None:
    bundle = broken_bundle(MOD + "eips.tf", '  domain = "vpc"', '  domain    =  "vpc"')
    failed_with(real(bundle), MOD + "eips.tf: not in `terraform fmt` layout", '+  domain = "vpc"')


def _fake_terraform(tmp_path: Path, version_output: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "terraform"
    fake.write_text(f"#!/bin/sh\necho '{version_output}'\n", encoding="utf-8")
    fake.chmod(0o755)
    return bin_dir


def test_not_available_without_terraform(
    blog_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HACOMPILE_TOOLS_DIR", str(tmp_path))
    result = real(blog_bundle)
    assert result.status is Status.UNAVAILABLE, result
    assert result.detail.startswith("terraform not found on PATH"), result.detail


@pytest.mark.parametrize("output", ['{"terraform_version": "1.5.7"}', "Terraform v0.12.31"])
def test_not_available_with_terraform_older_than_1_6(
    blog_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str
) -> None:
    monkeypatch.setenv("PATH", f"{_fake_terraform(tmp_path, output)}:/usr/bin:/bin")
    result = real(blog_bundle)
    assert result.status is Status.UNAVAILABLE, result
    assert "is older than 1.6" in result.detail, result.detail
