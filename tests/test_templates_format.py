"""Templates only format: every derived value is a plan field (hacompile.plan), so a template
holds no arithmetic and no string surgery. The lint below reads every expression of
hacompile's own templates (*.jinja) and of the roles' Ansible templates (*.j2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hacompile.pipeline import compile_spec
from hacompile.plan import amis
from hacompile.plan.build import EIP_CLAIM
from hacompile.render.env import template_root
from tests.conftest import ROOT

BLUEPRINTS = ROOT / "blueprints"

# Filters that format or select what the plan holds; any other filter is a computation.
ALLOWED_FILTERS = {
    "hcl",
    "hcl_inner",
    "hcl_argument",
    "join",
    "length",
    "list",
    "map",
    "selectattr",
    "rejectattr",
    "sort",
    "int",
    "bool",
}
# What is left on purpose, by template and expression (after string literals are blanked).
ALLOWED = {
    # The Terraform address of the resource the egress macro writes, from that resource's own
    # labels (as checkov and trivy name it): formatting, written once in the macro.
    ("terraform/_macros/egress.tf.jinja", 'set address = "" ~ group ~ ""'),
}

_COMMENT = re.compile(r"{#.*?#}", re.S)
_EXPRESSION = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.S)
_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")
_FILTER = re.compile(r"\|\s*([A-Za-z_]\w*)")
_OPERATOR = re.compile(r"[-+*/%~]")
_SLICE = re.compile(r"\[[^\]]*:[^\]]*\]|\[\s*-?\d+\s*\]")
_METHOD = re.compile(r"\.\s*[A-Za-z_]\w*\s*\(")
_COMPARISON = re.compile(r"==|!=|<|>|\bin\b")
# `{% set x = a if cond else b %}`: a value chosen in the template (the plan decides it).
_CHOSEN = re.compile(r"^set\b.*\bif\b.*\belse\b", re.S)


def computations(text: str) -> list[str]:
    """The expressions of one template that compute rather than format, and why."""
    found = []
    for match in _EXPRESSION.finditer(_COMMENT.sub("", text)):
        body = (match[1] if match[1] is not None else match[2]).strip()
        body = body.removeprefix("-").removesuffix("-").removeprefix("+").strip()
        bare = _STRING.sub(lambda m: m[0][0] * 2, body)  # 'x-y' -> '' : no operators inside
        why = [f"filter {name}" for name in _FILTER.findall(bare) if name not in ALLOWED_FILTERS]
        if _OPERATOR.search(bare):
            why.append("arithmetic or concatenation")
        if _SLICE.search(bare):
            why.append("slicing or a positional index")
        if _METHOD.search(bare):
            why.append("a method call")
        if match[1] is not None and _COMPARISON.search(bare):
            why.append("a decision inside {{ }}")
        if match[2] is not None and _CHOSEN.search(bare):
            why.append("a value chosen inside {% set %}")
        if why:
            found.append(f"{bare}  ({', '.join(why)})")
    return found


def offenders(root: Path) -> list[str]:
    out = []
    templates = [*root.rglob("*.jinja"), *root.glob("ansible/roles/*/templates/*.j2")]
    for template in sorted(templates):
        name = template.relative_to(root).as_posix()
        for found in computations(template.read_text(encoding="utf-8")):
            if (name, found.split("  (")[0]) not in ALLOWED:
                out.append(f"{name}: {found}")
    return out


def test_templates_only_format() -> None:
    found = offenders(template_root())
    assert not found, "compute it in hacompile.plan and format the field:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "expression",
    [
        '{{ plan.flavor.haproxy_service | replace("hapee-", "") | replace("-lb", "") }}',
        '{{ (plan.name ~ "-lb-") | hcl }}',
        "{{ check.interval * check.fall }}",
        "{% set hostnames = haproxy_backend.servers | map(attribute='address')"
        " | reject('match', '^[0-9.]+$') | list %}",
        "{% set scripts = keepalived_checks | rejectattr('kind', 'equalto', 'process') | list"
        " if keepalived_process_checks == 'track_process' else keepalived_checks %}",
        "{% set fl = plan.regions[0].flow_logs %}",
        "{{ plan.name[:8] }}",
        '{{ {"-1": "all"}.get(rule.protocol, rule.protocol) }}',
        "{{ 'HAProxy Enterprise' if plan.flavor.name == 'hapee' else 'Ubuntu 24.04 LTS' }}",
        '{{ rule.from_port if rule.protocol in ("tcp", "udp") else "" }}',
        "{{ value | split(',') }}",
    ],
)
def test_the_lint_refuses_what_the_templates_used_to_compute(expression: str) -> None:
    assert computations(expression), expression


@pytest.mark.parametrize(
    "expression",
    [
        "{{ plan.name }}",
        '{{- checkov("aws_eip.service", plan) }}',
        "{{ trivy(address, plan) -}}",
        '{{ "," if not loop.last else "." }}',
        "{{ region.eips | map(attribute='key') | list | hcl }}",
        "{{ hacompile_eips[item.name].allocation_id }}",
        "{% raw -%}",
        "{{ 'hapee-1.8' }}",
    ],
)
def test_the_lint_admits_formatting(expression: str) -> None:
    assert not computations(expression), expression


def test_plan_owns_what_the_templates_format() -> None:
    hapee = compile_spec(BLUEPRINTS / "blog-aws-keepalived.yaml").plan
    community = compile_spec(BLUEPRINTS / "community-multi-region.yaml").plan
    assert (hapee.flavor.label, hapee.flavor.image_label, hapee.flavor.version) == (
        "HAProxy Enterprise",
        "HAProxy Enterprise Marketplace",
        "3.0",
    )
    assert (community.flavor.label, community.flavor.image_label, community.flavor.version) == (
        "HAProxy (Ubuntu 24.04)",
        "Ubuntu 24.04 LTS",
        "",
    )
    assert hapee.flavor.haproxy_service == f"hapee-{hapee.flavor.version}-lb"
    for plan in (hapee, community):
        assert plan.eip_claim == EIP_CLAIM
        assert plan.backend_ami_owner == amis.CANONICAL_OWNER
        assert plan.backend_ami_name == "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-*-server-*"
        assert plan.vrrp_ssm_prefix == f"/hacompile/{plan.name}/<region>/vrrp"
        assert plan.any_ami_lookup == any(not r.ami_id for r in plan.regions)
        for region in plan.regions:
            names = region.names
            assert names.prefix == f"{plan.name}-{region.name}-"
            assert (names.vpc, names.route_table) == (
                f"{plan.name}-{region.name}",
                f"{plan.name}-{region.name}-public",
            )
            assert (names.lb_group, names.backend_group) == (
                f"{plan.name}-lb",
                f"{plan.name}-backend",
            )
            assert (names.lb_role_prefix, names.flow_logs_role_prefix) == (
                f"{plan.name}-lb-",
                f"{plan.name}-flow-logs-",
            )
            assert all(lb.host == names.prefix + lb.key for lb in region.load_balancers)
            assert all(s.host in ("", names.prefix + s.name) for s in region.servers)
            assert len(region.egress_table) == len(region.lb_egress) + len(region.backend_egress)
            if plan.flow_logs.destination == "cloudwatch":
                assert region.flow_logs.log_group == plan.flow_logs.log_group.replace(
                    "<region>", region.name
                )
    assert community.flavor.ami_owner == amis.CANONICAL_OWNER
    assert community.flavor.ami_name in {amis.ubuntu_noble_name(a) for a in ("amd64", "arm64")}


def test_egress_table_words() -> None:
    plan = compile_spec(BLUEPRINTS / "community-multi-region.yaml").plan
    rows = {(r.group, r.protocol, r.port, r.to) for r in plan.regions[0].egress_table}
    assert ("load balancers", "VRRP (112)", "", "the load balancers' group") in rows
    assert ("load balancers", "tcp", "443", "0.0.0.0/0") in rows


def test_copied_files_keep_the_plans_values() -> None:
    """Two files are copied verbatim, so they cannot take a plan field; they hold a checked
    copy instead: the claim script's fallbacks when run without ATTEMPTS/BUDGET_SECONDS, and
    the keepalived role's documented default SSM path (the bundle README's comes from the plan).
    The roles stay plain Ansible, usable without hacompile, so neither copy can go; the claim
    script's header names no number, so each is written once. docs/failover.md quotes the
    claim's bounds.
    """
    from hacompile.plan.build import vrrp_ssm_prefix

    roles = template_root() / "ansible" / "roles" / "keepalived"
    claim = (roles / "files" / "hacompile-eip-claim").read_text(encoding="utf-8")
    attempts = f"ATTEMPTS=${{ATTEMPTS:-{EIP_CLAIM.attempts}}}\n"
    budget = f"BUDGET_SECONDS=${{BUDGET_SECONDS:-{EIP_CLAIM.budget_seconds}}}\n"
    assert attempts in claim and budget in claim
    docs = " ".join((ROOT / "docs" / "failover.md").read_text(encoding="utf-8").split())
    assert (
        f"`ATTEMPTS={EIP_CLAIM.attempts}` tries and a "
        f"`BUDGET_SECONDS={EIP_CLAIM.budget_seconds}` time budget"
    ) in docs
    defaults = (roles / "defaults" / "main.yml").read_text(encoding="utf-8")
    ansible = vrrp_ssm_prefix("{{ hacompile_cluster }}", "{{ hacompile_region }}")
    assert f'keepalived_ssm_prefix: "{ansible}"\n' in defaults
