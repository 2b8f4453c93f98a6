"""`access.management`: SSH from `ssh_cidrs` (the default, every existing spec) or SSM Session
Manager, which opens no inbound SSH at all: the module emits no SSH ingress rule, attaches
AmazonSSMManagedInstanceCore to the load balancers' role, Terraform's inventory names each
instance by its ID and Ansible's SSH goes through Session Manager."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from hacompile.errors import SpecError
from hacompile.pipeline import compile_spec
from tests.conftest import ROOT

BYO = ROOT / "blueprints" / "existing-vpc.yaml"
BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
MOD = "terraform/modules/haproxy-ha/"


def _files(spec: Path) -> dict[str, str]:
    return {p: f.content.decode() for p, f in compile_spec(spec).bundle.by_path().items()}


def test_ssm_management_opens_no_ssh_and_grants_session_manager() -> None:
    files = _files(BYO)
    main = files["terraform/eu-central-1/main.tf"]
    # the SSH ingress rules are for_each over ssh_cidrs: an empty list, no rule
    assert re.search(r"^  ssh_cidrs += \[\]$", main, re.M), main
    assert "for_each = toset(var.ssh_cidrs)" in files[MOD + "security.tf"]
    assert 'ssm_managed_policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"' in main
    iam = files[MOD + "iam.tf"]
    assert 'resource "aws_iam_role_policy_attachment" "lb_ssm"' in iam
    assert "ansible_host = lb.id" in files[MOD + "outputs.tf"]
    inventory = YAML(typ="safe").load(files["ansible/inventory/hacompile.yml"])
    proxy = inventory["all"]["children"]["eu_central_1"]["vars"]["ansible_ssh_common_args"]
    assert "aws ssm start-session --target %h" in proxy and "AWS-StartSSHSession" in proxy
    assert "--region eu-central-1" in proxy
    assert "Session Manager" in files["README.md"]


def test_ssh_management_is_what_it_was() -> None:
    files = _files(BLOG)
    assert "lb_ssm" not in files[MOD + "iam.tf"]
    assert "ansible_host = lb.public_ip" in files[MOD + "outputs.tf"]
    assert "ansible_ssh_common_args" not in files["ansible/inventory/hacompile.yml"]
    assert re.search(r"^  ssh_cidrs += \[\"\d", files["terraform/us-east-1/main.tf"], re.M)


def _spec(tmp_path: Path, base: Path, change: dict[str, object]) -> Path:
    yaml = YAML()
    data = yaml.load(base.read_text())
    data["access"] = change
    out = tmp_path / "ha.yaml"
    with out.open("w") as fh:
        yaml.dump(data, fh)
    return out


@pytest.mark.parametrize(
    ("base", "access", "message"),
    [
        (
            BYO,
            {"management": "ssm", "ssh_key_name": "k", "ssh_cidrs": ["198.51.100.0/24"]},
            "`management: ssm` opens no inbound SSH: remove `ssh_cidrs`",
        ),
        (BYO, {"ssh_key_name": "k"}, "list `ssh_cidrs` (where SSH may come from), or set"),
        (
            BLOG,
            {"management": "ssm", "ssh_key_name": "k"},
            "demo backends are managed over SSH from ssh_cidrs",
        ),
    ],
)
def test_management_and_cidrs_must_agree(
    tmp_path: Path, base: Path, access: dict[str, object], message: str
) -> None:
    with pytest.raises(SpecError) as err:
        compile_spec(_spec(tmp_path, base, access))
    rendered = [d.render() for d in err.value.diagnostics]
    hits = [r for r in rendered if message in r]
    assert hits, rendered
    assert all(":" in h.split(" ")[0] for h in hits)  # file:line:column
