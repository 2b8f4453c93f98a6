"""Each checker of `hacompile verify` catches a deliberately broken bundle.

Each test breaks one thing in a copy of the blog bundle and runs only the checker(s) that should
catch it, asserting the finding itself, so a checker that silently passes everything fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hacompile.verify.base import CheckResult, Status
from hacompile.verify.runner import run_checks

Broken = Callable[[str, str, str], Path]
TF = "terraform/us-east-1/"
MOD = "terraform/modules/haproxy-ha/"  # the resources every region root calls
ROLES = "ansible/roles/"


def only(bundle: Path, *names: str) -> dict[str, CheckResult]:
    return {r.name: r for r in run_checks(bundle, names)}


def failed_with(result: CheckResult, *needles: str) -> str:
    assert result.status is Status.FAILED, result
    text = "\n".join(result.findings)
    for needle in needles:
        assert needle in text, text
    return text


@pytest.mark.tools
def test_passes_on_the_unbroken_bundle_for_the_cheap_checkers(blog_bundle: Path) -> None:
    results = only(blog_bundle, "terraform", "iam", "yamllint", "shellcheck")
    assert all(r.status is Status.PASSED for r in results.values()), results


def test_terraform_typo_in_argument(broken_bundle: Broken) -> None:
    bundle = broken_bundle(MOD + "instances.tf", "  instance_type ", "  instance_typ ")
    failed_with(
        only(bundle, "terraform")["terraform"],
        "instance_typ: unsupported argument",
        "instance_type",
    )


def test_terraform_dangling_reference(broken_bundle: Broken) -> None:
    bundle = broken_bundle(
        MOD + "security.tf", "= aws_security_group.lb.id", "= aws_security_group.lbx.id"
    )
    failed_with(only(bundle, "terraform")["terraform"], "aws_security_group.lbx is not declared")


@pytest.mark.tools
def test_unformatted_file(broken_bundle: Broken) -> None:
    bundle = broken_bundle(MOD + "eips.tf", '  domain = "vpc"', '  domain    =  "vpc"')
    failed_with(
        only(bundle, "terraform-fmt")["terraform-fmt"],
        "eips.tf: not in `terraform fmt` layout",
        '+  domain = "vpc"',
    )


@pytest.mark.tools
def test_hcl_syntax_error_reported_by_hashicorps_parser(broken_bundle: Broken) -> None:
    bundle = broken_bundle(MOD + "eips.tf", '  domain = "vpc"', "  domain = ")
    failed_with(only(bundle, "terraform-fmt")["terraform-fmt"], "eips.tf: HCL parse error")


@pytest.mark.tools
def test_checkov_finding_and_unlisted_skip(broken_bundle: Broken) -> None:
    broken_bundle(MOD + "network.tf", "  # checkov:skip=CKV_AWS_158:", "  # was:")
    bundle = broken_bundle("README.md", "| CKV2_AWS_19 |", "| (removed) |")
    failed_with(
        only(bundle, "checkov")["checkov"],
        "aws_cloudwatch_log_group.flow_logs: CKV_AWS_158",
        "checkov:skip=CKV2_AWS_19 is not listed in README.md",
    )


def test_trivy_finding_when_an_inline_ignore_is_removed(broken_bundle: Broken) -> None:
    """The blog bundle's accepted trivy findings are real: without its ignore line, the
    internet-bound HTTPS egress rule is reported (AWS-0104); the HTTP rule's ignore, scoped to
    its own key, does not cover it."""
    bundle = broken_bundle(MOD + "security.tf", "#trivy:ignore:AVD-AWS-0104[each.key=https]", "#")
    failed_with(only(bundle, "trivy")["trivy"], "AWS-0104")


def test_iam_unknown_action_and_unscoped_resource(broken_bundle: Broken) -> None:
    policy = TF + "policies/eip-failover.json"
    broken_bundle(policy, '"ec2:AssociateAddress"', '"ec2:AssociateAdress"')
    bundle = broken_bundle(policy, '"arn:aws:ec2:us-east-1:*:elastic-ip/*"', '"*"')
    failed_with(only(bundle, "iam")["iam"], "UNKNOWN_ACTION", "ec2:AssociateAdress")


def test_iam_resource_star_on_scoped_action(broken_bundle: Broken) -> None:
    policy = TF + "policies/eip-failover.json"
    bundle = broken_bundle(
        policy,
        """      "Resource": [
        "arn:aws:ec2:us-east-1:*:elastic-ip/*",
        "arn:aws:ec2:us-east-1:*:network-interface/*"
      ],""",
        '      "Resource": "*",',
    )
    failed_with(only(bundle, "iam")["iam"], "RESOURCE_STAR_SCOPABLE: ec2:AssociateAddress")


@pytest.mark.tools
def test_ansible_lint_finding(broken_bundle: Broken) -> None:
    bundle = broken_bundle(ROLES + "haproxy/tasks/main.yml", "  ansible.builtin.apt:", "  apt:")
    failed_with(only(bundle, "ansible-lint")["ansible-lint"], "haproxy/tasks/main.yml", "fqcn")


@pytest.mark.tools
def test_ansible_module_missing_from_collections(broken_bundle: Broken) -> None:
    bundle = broken_bundle(
        ROLES + "keepalived/tasks/auth.yml",
        "community.aws.ssm_parameter:",
        "amazon.aws.ssm_parameter:",
    )
    failed_with(
        only(bundle, "ansible-syntax")["ansible-syntax"],
        "keepalived/tasks/auth.yml: module amazon.aws.ssm_parameter is not in any",
    )


def test_yamllint_finding(broken_bundle: Broken) -> None:
    bundle = broken_bundle("ansible/site.yml", "  become: true\n", "  become: true   \n")
    failed_with(only(bundle, "yamllint")["yamllint"], "ansible/site.yml:", "trailing-spaces")


@pytest.mark.root
@pytest.mark.tools
def test_bad_keepalived_option_and_security_and_haproxy(broken_bundle: Broken) -> None:
    template = ROLES + "keepalived/templates/keepalived.conf.j2"
    broken_bundle(template, "    advert_int {{", "    advert_intt {{")
    broken_bundle(template, "    enable_script_security\n", "")
    bundle = broken_bundle(
        ROLES + "haproxy/templates/haproxy.cfg.j2",
        "    option redispatch",
        "    option redispatchx",
    )
    results = only(bundle, "keepalived", "haproxy")
    failed_with(
        results["keepalived"],
        "Unknown keyword 'advert_intt'",
        "SECURITY VIOLATION - scripts are being executed but script_security not enabled",
    )
    failed_with(results["haproxy"], "haproxy.cfg", "redispatchx")


@pytest.mark.root
@pytest.mark.tools
def test_truncated_vrrp_password(broken_bundle: Broken) -> None:
    bundle = broken_bundle(
        ROLES + "keepalived/templates/keepalived.conf.j2",
        "auth_pass {{ keepalived_auth_passwords[instance.name] }}",
        "auth_pass {{ keepalived_auth_passwords[instance.name] }}xyz",
    )
    failed_with(only(bundle, "keepalived")["keepalived"], "Truncating auth_pass to 8 characters")


@pytest.mark.tools
def test_shellcheck_script_bug(broken_bundle: Broken) -> None:
    bundle = broken_bundle(
        ROLES + "keepalived/files/hacompile-check-gateway", '[ -n "$gateway" ]', "[ -n $gateway ]"
    )
    failed_with(only(bundle, "shellcheck")["shellcheck"], "hacompile-check-gateway", "SC2086")


@pytest.mark.tools
def test_eip_script_that_does_not_retry_and_env_with_the_wrong_private_ip(
    broken_bundle: Broken,
) -> None:
    broken_bundle(
        ROLES + "keepalived/files/hacompile-eip-claim", "ATTEMPTS=${ATTEMPTS:-8}\n", "ATTEMPTS=1\n"
    )
    bundle = broken_bundle(
        ROLES + "keepalived/templates/eip.env.j2",
        "PRIVATE_IP='{{ item.slot_ip }}'",
        "PRIVATE_IP='{{ keepalived_unicast_src_ip }}'",
    )
    failed_with(
        only(bundle, "eip-scripts")["eip-scripts"],
        "with 2 throttled writes",
        "sent private IP ['10.0.1.10'], expected 10.0.1.11",
    )


def test_module_call_with_an_unknown_or_missing_input(broken_bundle: Broken) -> None:
    broken_bundle(TF + "main.tf", "  root_volume_gb = 16\n", "  root_volume_size = 16\n")
    bundle = broken_bundle(TF + "outputs.tf", "module.ha.eips", "module.ha.eip")
    text = failed_with(
        only(bundle, "terraform")["terraform"],
        "main.tf: module.ha: root_volume_size: the module declares no such "
        "variable; did you mean 'root_volume_gb'?",
        "main.tf: module.ha: root_volume_gb: required input is missing",
        "outputs.tf: module.ha: module.ha.eip: the module has no such output",
    )
    assert text.count("\n") == 2
