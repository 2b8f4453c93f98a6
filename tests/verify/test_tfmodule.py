"""Issue 12, Terraform as one module: the interface is complete, its validation refuses bad
values with its own message, and a state built by the earlier one-root layout moves into the
module instead of being replaced (real Terraform where the binary is present)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hacompile.pipeline import compile_spec
from hacompile.plan import module
from hacompile.verify.tfreal import _Run, find_terraform
from tests.conftest import ROOT
from tests.verify.test_tfreal import MOD, TF, failed_with, needs_terraform, real

Broken = Callable[[str, str, str], Path]
BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml"))
BLOG_GOLDEN = ROOT / "tests" / "golden" / "blog-aws-keepalived"

# Every resource address of the blog bundle's us-east-1 root before the module (hacompile at
# 7c95c1e): each must have a `moved` block to its address in the module.
OLD_BLOG_ADDRESSES = (
    "aws_eip.service",
    "terraform_data.deployment",
    "aws_iam_role.lb",
    "aws_iam_role_policy.lb_eip_failover",
    "aws_iam_instance_profile.lb",
    "aws_instance.lb",
    "aws_ec2_tag.lb_eni_deployment",
    "aws_instance.backend",
    "aws_vpc.main",
    "aws_cloudwatch_log_group.flow_logs",
    "aws_iam_role.flow_logs",
    "aws_iam_role_policy.flow_logs",
    "aws_flow_log.main",
    "aws_default_security_group.default",
    "aws_subnet.public",
    "aws_internet_gateway.main",
    "aws_route_table.public",
    "aws_route.internet",
    "aws_route_table_association.public",
    "aws_security_group.lb",
    "aws_vpc_security_group_ingress_rule.lb_frontend",
    "aws_vpc_security_group_ingress_rule.lb_vrrp",
    "aws_vpc_security_group_ingress_rule.lb_pmtu",
    "aws_vpc_security_group_ingress_rule.lb_ssh",
    "aws_vpc_security_group_egress_rule.lb_egress_backends",
    "aws_vpc_security_group_egress_rule.lb_egress_vrrp",
    "aws_vpc_security_group_egress_rule.lb_egress_dns_udp",
    "aws_vpc_security_group_egress_rule.lb_egress_dns_tcp",
    "aws_vpc_security_group_egress_rule.lb_egress_https",
    "aws_vpc_security_group_egress_rule.lb_egress_http",
    "aws_security_group.backend",
    "aws_vpc_security_group_ingress_rule.backend_from_lb",
    "aws_vpc_security_group_ingress_rule.backend_ssh",
    "aws_vpc_security_group_egress_rule.backend_egress_dns_udp",
    "aws_vpc_security_group_egress_rule.backend_egress_dns_tcp",
    "aws_vpc_security_group_egress_rule.backend_egress_https",
    "aws_vpc_security_group_egress_rule.backend_egress_http",
)


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=[p.stem for p in BLUEPRINTS])
def test_every_region_passes_every_input_once(blueprint: Path) -> None:
    compiled = compile_spec(blueprint)
    declared = [i.name for i in module.inputs(compiled.plan)]
    files = compiled.bundle.by_path()
    variables = files[MOD + "variables.tf"].content.decode()
    assert re.findall(r'^variable "([a-z0-9_]+)"', variables, re.M) == declared
    readme = files[MOD + "README.md"].content.decode()
    assert all(f"| `{name}` |" in readme for name in declared)
    assert all(f"| `{o.name}` |" in readme for o in module.OUTPUTS)
    required = [i.name for i in module.inputs(compiled.plan) if i.default_label == "required"]
    for region in compiled.plan.regions:
        passed = [a.name for a in module.arguments(compiled.plan, region)]
        assert passed == [n for n in declared if n in passed], region.name  # in order, once
        assert set(required) <= set(passed), region.name
        main = files[f"terraform/{region.name}/main.tf"].content.decode()
        assert re.findall(r"^  ([a-z0-9_]+) += ", main, re.M) == ["source", *passed]


def test_moved_blocks_cover_every_address_of_the_old_layout() -> None:
    moved = (BLOG_GOLDEN / TF / "moved.tf").read_text()
    pairs = re.findall(r"moved \{\n  from = (\S+)\n  to   = (\S+)\n\}", moved)
    assert sorted(f for f, _ in pairs) == sorted(OLD_BLOG_ADDRESSES)
    declared = set(
        re.findall(
            r'^resource "([^"]+)" "([^"]+)"',
            "\n".join(p.read_text() for p in (BLOG_GOLDEN / MOD).glob("*.tf")),
            re.M,
        )
    )
    for old, new in pairs:
        assert new.startswith("module.ha."), new
        rtype, name = new.removeprefix("module.ha.").split("[")[0].split(".")
        assert (rtype, name) in declared, new
        if old.startswith("aws_vpc_security_group_egress_rule."):
            key = old.split(".")[1].split("_egress_", 1)[1]
            assert new.endswith(f'_egress["{key}"]'), (old, new)


@pytest.mark.tools
@needs_terraform
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("root_volume_gb = 16", "root_volume_gb = 4", "A whole number of GiB from 8 to 1024."),
        (
            'vpc_cidr           = "10.0.0.0/16"',
            'vpc_cidr           = "10.0.0.0/33"',
            "An IPv4 CIDR block.",
        ),
        ('protocol = "112"', 'protocol = "gre"', "protocol is tcp, udp, 112 or -1."),
    ],
)
def test_the_module_refuses_a_bad_input_with_its_message(
    broken_bundle: Broken, old: str, new: str, message: str
) -> None:
    bundle = broken_bundle(TF + "main.tf", old, new)
    failed_with(real(bundle), "Invalid value for variable", message)


@pytest.mark.tools
@needs_terraform
def test_an_old_state_moves_into_the_module_and_keeps_the_deployment_id(tmp_path: Path) -> None:
    """A state of the one-root layout holding the deployment ID (terraform_data, built into
    Terraform, so no provider has to read it): plan moves it into module.ha, unchanged."""
    terraform, _ = find_terraform()
    work = tmp_path / "work"
    shutil.copytree(BLOG_GOLDEN / "terraform", work / "terraform")
    root = work / "terraform" / "us-east-1"
    deployment = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    (root / "terraform.tfstate").write_text(
        json.dumps(
            {
                "version": 4,
                "terraform_version": "1.11.4",
                "serial": 1,
                "lineage": "00000000-0000-0000-0000-000000000001",
                "outputs": {},
                "resources": [
                    {
                        "mode": "managed",
                        "type": "terraform_data",
                        "name": "deployment",
                        "provider": 'provider["terraform.io/builtin/terraform"]',
                        "instances": [
                            {
                                "schema_version": 0,
                                "sensitive_attributes": [],
                                "attributes": {
                                    "id": deployment,
                                    "input": None,
                                    "output": None,
                                    "triggers_replace": None,
                                },
                            }
                        ],
                    }
                ],
            }
        )
    )
    run = _Run(terraform, work)
    init = run.tf(root, "init", "-backend=false", f"-plugin-dir={run.plugins}", "-input=false")
    assert init.returncode == 0, init.stdout + init.stderr
    plan = run.tf(root, "plan", "-refresh=false", "-input=false", "-lock=false", "-out=tfplan")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    shown = json.loads(run.tf(root, "show", "-json", "tfplan").stdout)
    changes = {c["address"]: c for c in shown["resource_changes"]}
    moved = changes["module.ha.terraform_data.deployment"]
    assert moved["previous_address"] == "terraform_data.deployment"
    assert moved["change"]["actions"] == ["no-op"]
    assert moved["change"]["after"]["id"] == deployment
    assert not [a for a, c in changes.items() if "delete" in c["change"]["actions"]]
