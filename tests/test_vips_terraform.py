"""Private VIPs on the Terraform side (hacompile.plan.module_vips, iam.vip_failover_policy):
one aws_route per (VIP, route table) left to the claim after creation, source/destination
checking off only with route VIPs, IAM on exactly the route tables involved, and nothing of it
in a bundle without VIPs. The HCL is read back with python-hcl2, as tests/test_outputs.py does.
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from ruamel.yaml import YAML

from hacompile.pipeline import compile_spec
from hacompile.verify.iam import check_iam, policy_findings
from hacompile.write import write
from tests.conftest import BLUEPRINTS, ROOT

MOD = "terraform/modules/haproxy-ha/"
TABLES = ["rtb-0a1b2c3d4e5f60711", "rtb-0a1b2c3d4e5f60712"]


@cache
def _files(spec: Path) -> dict[str, str]:
    return {p: f.content.decode() for p, f in compile_spec(spec).bundle.by_path().items()}


def _mixed_spec(tmp: Path) -> Path:
    """The existing-VPC blueprint with a route VIP on two named tables and a secondary_ip VIP,
    plus a second region whose VPC the bundle creates, with a route VIP on its own table:
    both kinds of table in one module (the own table counted)."""
    yaml = YAML()
    spec: Any = yaml.load((ROOT / "blueprints" / "existing-vpc.yaml").read_text())
    first = spec["regions"][0]
    first["taken"] = ["10.80.1.5"]
    first["vips"] = [
        {"name": "api", "strategy": "route", "address": "172.31.255.10", "route_tables": TABLES},
        {
            "name": "db",
            "strategy": "secondary_ip",
            "address": "10.80.1.60",
            "load_balancers": ["lb1", "lb3"],
        },
    ]
    spec["regions"].append(
        {
            "name": "eu-west-1",
            "vpc_cidr": "10.81.0.0/16",
            "zones": ["eu-west-1a", "eu-west-1b"],
            "backends": [
                {"name": "app1", "address": "10.81.1.50", "port": 8080},
                {"name": "app2", "address": "10.81.2.50", "port": 8080},
            ],
            "vips": [{"name": "api", "strategy": "route", "address": "172.31.255.20"}],
        }
    )
    spec["load_balancers"]["count"] = 3
    spec["load_balancers"]["instance_type"] = "t3.medium"
    path = tmp / "mixed.yaml"
    out = io.StringIO()
    yaml.dump(spec, out)
    path.write_text(out.getvalue())
    return path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return dict(_files(_mixed_spec(tmp_path_factory.mktemp("mixed"))))


def _hcl(text: str) -> dict[str, Any]:
    return dict(hcl2.loads(text))


def _resource(parsed: dict[str, Any], rtype: str, name: str) -> dict[str, Any]:
    for block in parsed.get("resource", []):
        for label, named in _unquote(block).items():
            if label == rtype and name in named:
                return dict(named[name])
    raise AssertionError(f"no resource {rtype}.{name}")


def _module_args(text: str) -> dict[str, Any]:
    (call,) = _hcl(text)["module"]
    return dict(_unquote(call)["ha"])


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps string literals quoted; compare plain values."""
    if isinstance(value, str) and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items()}
    return value


def _bare(expression: str) -> str:
    """An expression as written, without python-hcl2's ${...} wrapping (versions differ)."""
    return expression.removeprefix("${").removesuffix("}")


def test_route_vips_get_one_route_each_on_the_own_table_left_to_the_claim() -> None:
    files = _files(ROOT / "blueprints" / "internal-route-vip.yaml")
    vips = _hcl(files[MOD + "vips.tf"])
    route = _resource(vips, "aws_route", "vip")
    assert route["for_each"] == "${var.vip_routes}"
    assert "aws_instance.lb[each.value.owner].primary_network_interface_id" in str(
        route["network_interface_id"]
    )
    assert "aws_route_table.public.id" in str(route["route_table_id"])
    (lifecycle,) = route["lifecycle"]
    assert [_bare(x) for x in lifecycle["ignore_changes"]] == ["network_interface_id"]
    assert "never move it back" in files[MOD + "vips.tf"]
    routes = _unquote(_module_args(files["terraform/eu-central-1/main.tf"])["vip_routes"])
    assert routes == {
        "api": {"destination": "172.31.255.10/32", "owner": "lb1"},
        "mesh": {"destination": "172.31.255.11/32", "owner": "lb2"},
    }
    own = _resource(vips, "aws_iam_role_policy", "lb_vip_route_own_table")
    assert "aws_route_table.public.arn" in str(own["policy"])
    out = files[MOD + "outputs.tf"]
    assert "hacompile_route_table_id = aws_route_table.public.id" in out


def test_existing_tables_get_one_route_per_table_and_the_own_table_is_counted(
    mixed: dict[str, str],
) -> None:
    routes = _unquote(_module_args(mixed["terraform/eu-central-1/main.tf"])["vip_routes"])
    assert routes == {
        f"api.{t}": {"destination": "172.31.255.10/32", "owner": "lb1", "route_table_id": t}
        for t in TABLES
    }
    west = _unquote(_module_args(mixed["terraform/eu-west-1/main.tf"])["vip_routes"])
    assert west == {"api": {"destination": "172.31.255.20/32", "owner": "lb1"}}
    vips = mixed[MOD + "vips.tf"]
    assert "aws_route_table.public[0].id" in vips and "aws_route_table.public[0].arn" in vips
    assert "one(aws_route_table.public[*].id)" in mixed[MOD + "outputs.tf"]


def test_source_dest_check_only_with_route_vips(mixed: dict[str, str]) -> None:
    route = _files(ROOT / "blueprints" / "internal-route-vip.yaml")[MOD + "instances.tf"]
    lb = _resource(_hcl(route), "aws_instance", "lb")
    assert _bare(lb["source_dest_check"]) == "length(var.vip_routes) == 0"
    assert "source_dest_check" in mixed[MOD + "instances.tf"]
    secondary = _files(ROOT / "blueprints" / "internal-secondary-ip.yaml")
    assert "source_dest_check" not in secondary[MOD + "instances.tf"]
    assert 'resource "aws_route" "vip"' not in secondary[MOD + "vips.tf"]
    lb = _resource(_hcl(secondary[MOD + "instances.tf"]), "aws_instance", "lb")
    (lifecycle,) = lb["lifecycle"]
    assert "secondary_private_ips" in [_bare(x) for x in lifecycle["ignore_changes"]]


def test_vip_policy_arns_are_exact(mixed: dict[str, str]) -> None:
    central = json.loads(mixed["terraform/eu-central-1/policies/vip-failover.json.tftpl"])
    by_sid = {s["Sid"]: s for s in central["Statement"]}
    assert by_sid["SeeRouteTables"]["Resource"] == "*"
    assert by_sid["PointTheVipRoutesOfTheNamedTablesAtAnInterface"]["Resource"] == [
        f"arn:aws:ec2:eu-central-1:${{account_id}}:route-table/{t}" for t in TABLES
    ]
    assign = by_sid["ReassignTheVipsToThisClustersInterfaces"]
    assert assign["Action"] == "ec2:AssignPrivateIpAddresses"
    assert assign["Resource"] == "arn:aws:ec2:eu-central-1:*:network-interface/*"
    # the same tag condition as the EIPs', escaped for templatefile
    tag = "aws:ResourceTag/hacompile:deployment"
    assert assign["Condition"]["StringEquals"][tag] == "$${aws:PrincipalTag/hacompile:deployment}"
    eip = json.loads(mixed["terraform/eu-central-1/policies/eip-failover.json"])
    assert eip["Statement"][1]["Condition"]["StringEquals"][tag] == (
        "${aws:PrincipalTag/hacompile:deployment}"
    )
    main = mixed["terraform/eu-central-1/main.tf"]
    assert 'templatefile("${path.module}/policies/vip-failover.json.tftpl"' in main
    # the own-table region: DescribeRouteTables only; the table itself is the module's policy
    west = json.loads(mixed["terraform/eu-west-1/policies/vip-failover.json"])
    assert [s["Sid"] for s in west["Statement"]] == ["SeeRouteTables"]
    own = json.loads(mixed[MOD + "policies/vip-route-own-table.json.tftpl"])
    (statement,) = own["Statement"]
    assert statement["Resource"] == "${route_table_arn}"
    assert statement["Action"] == ["ec2:CreateRoute", "ec2:ReplaceRoute"]


def test_the_iam_check_reads_the_vip_templates_filled(
    mixed: dict[str, str], tmp_path: Path
) -> None:
    own = mixed[MOD + "policies/vip-route-own-table.json.tftpl"]
    assert policy_findings(own)  # unfilled, ${route_table_arn} is no ARN
    from hacompile.verify.base import Context

    bundle = tmp_path / "bundle"
    for rel, text in mixed.items():
        if "/policies/" in rel:
            (bundle / rel).parent.mkdir(parents=True, exist_ok=True)
            (bundle / rel).write_text(text)
    outcome = check_iam(Context(bundle, tmp_path / "scratch"))
    assert not outcome.findings, outcome.findings


@pytest.mark.parametrize(
    "blueprint",
    [b for b in BLUEPRINTS if not b.stem.startswith("internal-")],
    ids=lambda b: b.stem,
)
def test_no_vip_resources_without_vips(blueprint: Path) -> None:
    files = _files(blueprint)
    assert MOD + "vips.tf" not in files
    assert not any("vip" in p for p in files if p.startswith("terraform/"))
    tf = "".join(text for p, text in files.items() if p.endswith(".tf"))
    for needle in ("vip_routes", "vip_failover", "source_dest_check", "hacompile_route_table_id"):
        assert needle not in tf, (blueprint.stem, needle)


def test_written_mixed_bundle_parses(mixed: dict[str, str], tmp_path: Path) -> None:
    compiled = compile_spec(_mixed_spec(tmp_path))
    write(compiled.bundle, tmp_path / "out")
    for path in sorted((tmp_path / "out" / "terraform").rglob("*.tf")):
        with path.open() as handle:
            hcl2.load(handle)


def test_the_plan_comparison_leaves_vip_instances_out(tmp_path: Path) -> None:
    """A VIP's VRRP instance has no slot IP and no EIP: the comparison with Terraform's plan
    must not look for either (it crashed on the empty slot IP)."""
    from hacompile.verify.tfplancmp import compiler_regions

    compiled = compile_spec(ROOT / "blueprints" / "internal-route-vip.yaml")
    write(compiled.bundle, tmp_path / "out")
    (region,) = compiler_regions(tmp_path / "out").values()
    assert all("" not in lb.slot_ips for lb in region.lbs.values())
    assert set().union(*(lb.eips for lb in region.lbs.values())) == {"eip1", "eip2"}


@pytest.mark.tools
def test_terraform_validates_and_plans_the_mixed_bundle(tmp_path: Path) -> None:
    """Real `terraform validate` and `plan` (stand-in provider, tests/verify/test_tfreal.py):
    the counted own table, the named tables, the templatefile policies of both kinds."""
    from hacompile.verify.base import Status, Unavailable
    from hacompile.verify.runner import run_checks
    from hacompile.verify.tfreal import find_terraform

    try:
        find_terraform()
    except Unavailable as exc:
        pytest.skip(str(exc))
    compiled = compile_spec(_mixed_spec(tmp_path))
    write(compiled.bundle, tmp_path / "out")
    (result,) = run_checks(tmp_path / "out", ["terraform-real"])
    assert result.status is Status.PASSED, result
