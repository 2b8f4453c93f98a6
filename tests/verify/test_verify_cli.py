"""The `hacompile verify` command line, the rendering API, and smaller checker details.

The command line runs in-process (`invoke_cli`): exit codes, findings and the tool lookup (which
reads PATH and $HACOMPILE_TOOLS_DIR at each call) are the same as in a subprocess; that
`python -m hacompile verify` itself starts is tests/verify/test_blueprints.py's business."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hacompile.pipeline import compile_spec
from hacompile.standins.ansible_render import render_region
from hacompile.standins.inventory import EipFixture, HostFixture, RegionFixture, lb_hosts
from hacompile.verify.base import Status
from hacompile.verify.iam import policy_findings
from hacompile.verify.runner import run_checks
from hacompile.verify.tfschema import check_terraform_dir
from hacompile.write import write
from tests.conftest import invoke_cli

ROOT = Path(__file__).resolve().parents[2]
Broken = Callable[[str, str, str], Path]


def verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return invoke_cli("verify", *args, env=env)


def test_missing_tool_is_reported_not_passed_and_does_not_fail(blog_bundle: Path) -> None:
    proc = verify(
        str(blog_bundle),
        "--only",
        "terraform",
        "--only",
        "checkov",
        env={"HACOMPILE_TOOLS_DIR": "/nonexistent", "PATH": "/usr/bin:/bin"},
    )
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("terraform ") and " passed " in lines[0], proc.stdout
    assert lines[1].startswith("checkov ") and "not available: checkov not found" in lines[1]
    assert "1 passed, 0 failed, 1 not available" in proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_failure_exits_1_and_prints_findings(broken_bundle: Broken) -> None:
    bundle = broken_bundle(
        "terraform/modules/haproxy-ha/eips.tf", '  domain = "vpc"', '  domian = "vpc"'
    )
    proc = verify(str(bundle), "--only", "terraform")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "terraform       failed, " in proc.stdout
    assert (
        "    terraform/modules/haproxy-ha/eips.tf: aws_eip.service: domian: unsupported argument"
    ) in proc.stdout


def test_usage_errors_exit_2(blog_bundle: Path, tmp_path: Path) -> None:
    assert verify(str(blog_bundle), "--only", "nosuch").returncode == 2
    assert verify(str(tmp_path / "missing")).returncode == 2


@pytest.mark.tools  # ansible renders the templates
def test_render_region_uses_the_given_ids(blog_bundle: Path, tmp_path: Path) -> None:
    lbs = lb_hosts(blog_bundle, "us-east-1")
    assert [lb.management_ip for lb in lbs] == ["10.0.1.10", "10.0.2.10"]
    fixture = RegionFixture(
        hosts={
            lb.host: HostFixture(f"eni-0000000000000000{n}", f"i-0000000000000000{n}")
            for n, lb in enumerate(lbs)
        },
        eips={
            "eip1": EipFixture("eipalloc-00000000000000001", "198.51.100.1"),
            "eip2": EipFixture("eipalloc-00000000000000002", "198.51.100.2"),
        },
    )
    rendered = render_region(blog_bundle, "us-east-1", tmp_path / "r", fixture, interface="eth7")
    assert [r.lb.host for r in rendered] == [lb.host for lb in lbs]
    env = rendered[1].eip_env["eip2"].read_text(encoding="utf-8")
    assert "ENI_ID='eni-00000000000000001'" in env
    assert "ALLOCATION_ID='eipalloc-00000000000000002'" in env
    assert "PRIVATE_IP='10.0.2.12'" in env and "OWNER='yes'" in env
    conf = rendered[0].keepalived_conf.read_text(encoding="utf-8")
    assert "interface eth7" in conf and "unicast_src_ip 10.0.1.10" in conf
    assert rendered[0].haproxy_cfg.read_text(encoding="utf-8").startswith("# Ansible managed")


@pytest.mark.tools
def test_haproxy_must_start_when_a_backend_name_does_not_resolve(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write(compile_spec(ROOT / "blueprints" / "three-lb-existing-backends.yaml").bundle, out)
    template = out / "ansible/roles/haproxy/templates/haproxy.cfg.j2"
    text = template.read_text(encoding="utf-8")
    assert "default-server init-addr last,libc,none" in text
    text = text.replace("    default-server init-addr last,libc,none\n", "")
    template.write_text(text.replace(" resolvers vpc{% endif %}", "{% endif %}"), encoding="utf-8")
    result = run_checks(out, ["haproxy"])[0]
    assert result.status is Status.FAILED
    assert "could not resolve address 'app3.internal.example.com'" in "\n".join(result.findings)


def test_comments_in_blocks_are_not_arguments_or_references(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_vpc" "main" {\n'
        "  # checkov:skip=CKV2_AWS_11: see aws_nothing.here.id\n"
        '  cidr_block = "10.0.0.0/16"\n'
        "}\n",
        encoding="utf-8",
    )
    assert check_terraform_dir(tmp_path) == ()


def test_trust_policy_without_resource_is_fine_but_identity_policy_is_not() -> None:
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        '{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    assert policy_findings(trust) == []
    identity = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": "ec2:DescribeAddresses"}]}'
    )
    assert any("MALFORMED" in f for f in policy_findings(identity))
