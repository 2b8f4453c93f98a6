"""Render the plan into an in-memory bundle, copier style.

Under `templates/`, a file ending in ``.jinja`` is rendered by hacompile (the suffix dropped);
every other file is copied byte for byte. That keeps the Ansible roles plain Ansible: their
``.j2`` templates are rendered by Ansible at deploy time from the generated variables, never by
hacompile. Data files (inventory, group variables, IAM policies) are emitted by a YAML or JSON
dumper, never by string templates. What the spec does not use is not emitted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from hacompile import manifest
from hacompile.failover import present
from hacompile.failover.model import Report
from hacompile.plan import iam, module, module_vips, tls
from hacompile.plan.inventory import inventory, lb_group_vars
from hacompile.plan.model import Plan, Region
from hacompile.record import Record
from hacompile.render import features, hcl
from hacompile.render.env import environment, template_root
from hacompile.render.mermaid import diagram
from hacompile.render.yamlout import dump_yaml

EXECUTABLE = 0o755
REGULAR = 0o644
# The roles' files only a spec with `metrics` installs (and so only its bundle holds).
METRICS_FILES = frozenset({"hacompile-vrrp-metrics", "hacompile-vrrp-metrics.lua"})
# ... and those only a spec with `tls` installs: the certificate sync and its timer.
TLS_FILES = frozenset(
    {"hacompile-tls-sync", "hacompile-tls-sync.service.j2", "hacompile-tls-sync.timer.j2"}
)


class File(Record):
    path: PurePosixPath
    content: bytes
    mode: int = REGULAR


class Bundle(Record):
    files: tuple[File, ...]

    def by_path(self) -> dict[str, File]:
        return {str(f.path): f for f in self.files}


def render(plan: Plan, report: Report) -> Bundle:
    """The bundle of `plan`; the README's failover section formats the proof stage's `report`
    (passed in, never recomputed here)."""
    files = [*_terraform(plan), *_ansible(plan), _readme(plan, report)]
    listed = manifest.build(
        [(f.path, f.content, f.mode) for f in files],
        plan.hacompile_version,
        plan.spec_file,
        plan.spec_digest,
    )
    files.append(File(PurePosixPath(manifest.NAME), listed.render()))
    return Bundle(tuple(sorted(files)))


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


def _emit(source: Path, rel: PurePosixPath, context: dict[str, Any], root: Path) -> File:
    """Render a .jinja template or copy a file verbatim, keeping its executable bit."""
    mode = EXECUTABLE if source.stat().st_mode & 0o111 else REGULAR
    if source.name.endswith(".jinja"):
        name = source.relative_to(root).as_posix()
        text = environment().get_template(name).render(**context)
        if rel.suffix == ".tf" or rel.name.endswith(".tf.jinja"):
            text = hcl.fmt(text)
        return File(rel.with_name(rel.name.removesuffix(".jinja")), text.encode(), mode)
    return File(rel, source.read_bytes(), mode)


def _terraform(plan: Plan) -> Iterator[File]:
    """The module once (terraform/modules/<name>/), then one thin root per region."""
    root = template_root()
    interface = module.module(plan)
    module_out = PurePosixPath("terraform", "modules", interface.name)
    module_files = []
    for source in _walk(root / "terraform" / "module"):
        rel = PurePosixPath(source.relative_to(root / "terraform" / "module").as_posix())
        if not interface.demo_backends and rel.name == "backend.yaml":
            continue
        if not interface.dns and rel.name == "dns.tf.jinja":
            continue  # no Route 53 records
        if not interface.vips and rel.name == "vips.tf.jinja":
            continue  # no private VIPs
        module_files.append(
            _emit(source, module_out / rel, {"plan": plan, "module": interface}, root)
        )
    module_files.append(
        _json(module_out / "policies" / "ec2-assume-role.json", iam.assume_role_policy())
    )
    if interface.own_route_table_vips:
        # .tftpl: the module fills in its own route table's ARN (iam.own_route_table_policy)
        module_files.append(
            _json(
                module_out / "policies" / module_vips.OWN_TABLE_POLICY,
                iam.own_route_table_policy(),
            )
        )
    module_files.append(_module_readme(plan, interface, module_out, root))
    yield from module_files
    resources = _resources(module_files)
    region_dir = root / "terraform" / "region"
    for region in plan.regions:
        out = PurePosixPath("terraform", region.name)
        context = {
            "plan": plan,
            "region": region,
            "module": interface,
            "arguments": module.arguments(plan, region),
            "moved": _moved(resources, region, interface),
            # the account ID, unknown at compile time, for the .tftpl policies below
            "caller_identity": region.flow_logs.destination == "cloudwatch"
            or interface.tls
            or any(v.route_tables for v in region.vips),
        }
        for source in _walk(region_dir):
            rel = PurePosixPath(source.relative_to(region_dir).as_posix())
            if region.state is None and rel.name == "backend.tf.jinja":
                continue  # local state: no backend block
            yield _emit(source, out / rel, context, root)
        policies = {"eip-failover.json": iam.eip_failover_policy(plan, region)}
        if region.flow_logs.destination == "cloudwatch":
            # .tftpl: Terraform's templatefile fills in the account ID, unknown at compile time
            policies["flow-logs-assume-role.json.tftpl"] = iam.flow_logs_assume_role_policy(
                plan, region
            )
            policies["flow-logs-delivery.json"] = iam.flow_logs_delivery_policy(plan, region)
        if plan.tls.files:
            policies["tls-read.json.tftpl"] = tls.read_policy(plan, region)
        vip_policy = iam.vip_failover_policy(plan, region)
        if vip_policy is not None:
            policies[module_vips.vip_policy_name(region)] = vip_policy
        for name, document in policies.items():
            yield _json(out / "policies" / name, document)


# The variables a .tftpl policy leaves to Terraform's templatefile (account, route table).
_TEMPLATE_VARIABLE = re.compile(r"\$\{(?!account_id\}|route_table_arn\})")


def _json(path: PurePosixPath, document: object) -> File:
    """A JSON document; as a .tftpl, every `${` but those of its template variables escaped
    as `$${`, so that an IAM policy variable such as ${aws:PrincipalTag/...} reaches AWS
    as written instead of breaking templatefile."""
    text = json.dumps(document, indent=2, sort_keys=False) + "\n"
    if path.name.endswith(".tftpl"):
        text = _TEMPLATE_VARIABLE.sub("$${", text)
    return File(path, text.encode())


_RESOURCE = re.compile(r'^resource "([^"]+)" "([^"]+)"', re.MULTILINE)


def _resources(files: list[File]) -> tuple[str, ...]:
    """The managed resources the rendered module declares (type.name), in file order."""
    return tuple(
        f"{m[1]}.{m[2]}"
        for f in files
        if f.path.suffix == ".tf"
        for m in _RESOURCE.finditer(f.content.decode())
    )


def _moved(
    resources: tuple[str, ...], region: Region, interface: module.Module
) -> tuple[tuple[str, str], ...]:
    """`moved` blocks from the addresses a bundle had before the module (every resource in the
    region's root; one egress resource per rule) to the module's, so that `terraform apply` of a
    state built by the earlier layout moves state instead of replacing the VPC, the instances,
    the EIPs and the deployment ID."""
    call = interface.call
    moved = []
    for address in resources:
        rtype, name = address.split(".")
        group = name.removesuffix("_egress")
        if rtype == "aws_vpc_security_group_egress_rule" and group in ("lb", "backend"):
            rules = region.lb_egress if group == "lb" else region.backend_egress
            moved += [
                (f"{rtype}.{name}_{rule.key}", f'module.{call}.{address}["{rule.key}"]')
                for rule in rules
            ]
        elif interface.existing_network and address in module.COUNTED_WITH_EXISTING_NETWORK:
            moved.append((address, f"module.{call}.{address}[0]"))
        else:
            moved.append((address, f"module.{call}.{address}"))
    return tuple(moved)


def _module_readme(plan: Plan, interface: module.Module, out: PurePosixPath, root: Path) -> File:
    source = root / "terraform" / "module-README.md.jinja"
    context = {"plan": plan, "module": interface}
    return _emit(source, out / "README.md.jinja", context, root)


def _ansible(plan: Plan) -> Iterator[File]:
    root = template_root()
    ansible_dir = root / "ansible"
    demo = any(r.demo_backends for r in plan.regions)
    on = features.enabled(plan)
    for source in _walk(ansible_dir):
        rel = PurePosixPath(source.relative_to(ansible_dir).as_posix())
        if not demo and rel.parts[:2] == ("roles", "demo_backend"):
            continue
        if not plan.observability.metrics_port and rel.name in METRICS_FILES:
            continue
        if not plan.tls.files and rel.name in TLS_FILES:
            continue
        emitted = _emit(source, PurePosixPath("ansible") / rel, {"plan": plan}, root)
        if not source.name.endswith(".jinja"):
            content = features.apply(emitted.content, on, str(rel))
            emitted = emitted._replace(content=content)
        yield emitted
    header = f"# Generated by hacompile {plan.hacompile_version} from {plan.spec_file}.\n"
    yield File(
        PurePosixPath("ansible/inventory/hacompile.yml"),
        (header + "---\n" + dump_yaml(inventory(plan))).encode(),
    )
    yield File(
        PurePosixPath("ansible/group_vars/lb.yml"),
        (header + "---\n" + dump_yaml(lb_group_vars(plan))).encode(),
    )


def _readme(plan: Plan, report: Report) -> File:
    root = template_root()
    context = {
        "plan": plan,
        "failover": present.view(report),
        "diagram": diagram(plan),
        "module": module.module(plan),
    }
    return _emit(root / "README.md.jinja", PurePosixPath("README.md.jinja"), context, root)
