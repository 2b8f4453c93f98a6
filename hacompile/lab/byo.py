"""Bring your own network in the lab: the spec's copy with the IDs the lab's cloud picked, and
the checks that the tier went into that network and nowhere else.

Why a copy: a spec with `vpc_id` names a VPC, subnets and security groups of the user's
account. The lab's cloud creates them first (hacompile.lab.existing_net), but moto picks their
IDs, so the spec's own IDs name nothing there. The lab writes a copy of the spec with those IDs
replaced by the created ones (the only change; each one is recorded as a lab-only
substitution), compiles that copy and runs its bundle. Addresses never depend on IDs, so the
copy's plan lays the lab out exactly as the spec's does; the lab checks that too.
"""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from hacompile.lab.compile import LabBuild, compile_for_lab
from hacompile.lab.topology import Topology, build
from hacompile.plan.model import Plan
from hacompile.spec.model import Spec

__all__ = [
    "Byo",
    "Existing",
    "check_bundle",
    "check_network",
    "existing",
    "ignored",
    "rewrite",
    "substitutions",
    "summary",
]

GO_SECONDS = 120  # the cloud waits this long for the copy's compile before it gives up


@dataclass(frozen=True)
class Existing:
    """What the spec says the account already has in the lab's region."""

    region: str
    region_index: int  # among the spec's regions
    vpc_cidr: str
    vpc_id: str  # the spec's IDs, which the copy replaces
    subnets: tuple[tuple[str, str, str], ...]  # (zone, subnet CIDR, the spec's subnet ID)
    security_groups: tuple[str, ...]
    taken: tuple[str, ...]

    def cloud_config(self, lab_dir: Path) -> dict[str, Any]:
        """cloud.json's "existing": what to create, where to publish the IDs, the go-ahead."""
        return {
            "vpc_cidr": self.vpc_cidr,
            "subnets": [{"zone": z, "cidr": c} for z, c, _ in self.subnets],
            "security_groups": list(self.security_groups),
            "taken": list(self.taken),
            "created": str(lab_dir / "existing.json"),
            "go": str(lab_dir / "existing.go"),
            "go_seconds": GO_SECONDS,
        }


def existing(spec: Spec, region: str) -> Existing | None:
    """The existing network of `region` in `spec`; None when the bundle creates its own."""
    index = next(i for i, r in enumerate(spec.regions) if r.name == region)
    r = spec.regions[index]
    if r.vpc_id is None:
        return None
    return Existing(
        region=r.name,
        region_index=index,
        vpc_cidr=r.vpc_cidr,
        vpc_id=r.vpc_id,
        subnets=tuple((z.name, str(z.subnet_cidr), str(z.subnet_id)) for z in r.zones),
        security_groups=tuple(r.security_groups),
        taken=tuple(str(a) for a in r.taken),
    )


def rewrite(text: str, ex: Existing, created: Mapping[str, Any]) -> str:
    """The spec's text with the region's VPC, subnet and security group IDs replaced by the
    created ones; comments, order and every other value kept (ruamel round trip)."""
    yaml = YAML()
    yaml.preserve_quotes = True
    data = yaml.load(text)
    region = data["regions"][ex.region_index]
    region["vpc_id"] = created["vpc_id"]
    by_zone = {s["zone"]: s["subnet_id"] for s in created["subnets"]}
    for zone in region["zones"]:
        zone["subnet_id"] = by_zone[zone["name"]]
    groups = region.get("security_groups") or []
    for i, spec_id in enumerate(groups):
        groups[i] = created["security_groups"][str(spec_id)]
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def substitutions(ex: Existing, created: Mapping[str, Any]) -> list[str]:
    """One lab-only substitution per replaced ID, with its reason."""
    why = (
        "the lab's cloud created the existing network first and moto picked its IDs; "
        "the lab compiles a copy of the spec with them"
    )
    at = f"regions[{ex.region}]"
    lines = [f"{at}.vpc_id: {ex.vpc_id} -> {created['vpc_id']}: {why}"]
    by_zone = {s["zone"]: s["subnet_id"] for s in created["subnets"]}
    lines += [
        f"{at}.zones[{z}].subnet_id: {sid} -> {by_zone[z]}: {why}" for z, _, sid in ex.subnets
    ]
    lines += [
        f"{at}.security_groups: {sg} -> {created['security_groups'][sg]}: {why}"
        for sg in ex.security_groups
    ]
    return lines


def ignored(spec: Spec) -> list[str]:
    """What the spec asks for that the lab leaves out, and why (any spec, not only these)."""
    lines = []
    if spec.state is not None:
        lines.append("state: ignored: the lab runs no Terraform, so there is no state to keep")
    if spec.dns is not None:
        lines.append(
            "dns: ignored: Route 53 is not in the lab; the client asks the EIPs' lab addresses"
        )
    if spec.security.ec2_endpoint:
        lines.append(
            "security.ec2_endpoint: not emulated: the claim scripts reach the lab's EC2 API "
            "at AWS_ENDPOINT_URL, as they would the endpoint's private DNS name"
        )
    return lines


@dataclass(frozen=True)
class Byo:
    """The lab's part in a bring-your-own-network run: compile the copy once the IDs exist."""

    spec_path: Path
    existing: Existing
    work: Path  # the copy goes to work/spec/, its bundle to work/bundle

    def compile(self, created: Mapping[str, Any]) -> LabBuild:
        copy = self.work / "spec" / self.spec_path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        text = self.spec_path.read_text(encoding="utf-8")
        copy.write_text(rewrite(text, self.existing, created), encoding="utf-8")
        return compile_for_lab(copy, self.work / "bundle")

    def same_layout(self, before: Plan, after: Plan, index: int, prefix: str) -> bool:
        """Whether the copy's plan puts every lab host where the spec's plan did."""
        topo: list[Topology] = [build(p.regions[index], prefix) for p in (before, after)]
        return topo[0] == topo[1]


def check_bundle(bundle: Path, ex: Existing, created: Mapping[str, Any]) -> list[str]:
    """The copy's bundle must name every created ID and none of the spec's own."""
    text = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted((bundle / "terraform").rglob("*.tf"))
    )
    mine = [created["vpc_id"], *(s["subnet_id"] for s in created["subnets"])]
    mine += list(created["security_groups"].values())
    theirs = [ex.vpc_id, *(sid for _, _, sid in ex.subnets), *ex.security_groups]
    problems = [f"the bundle's Terraform does not name {i}" for i in mine if i not in text]
    problems += [f"the bundle's Terraform still names the spec's {i}" for i in theirs if i in text]
    return problems


def check_network(
    net: Mapping[str, Any],
    ex: Existing,
    created: Mapping[str, Any],
    topo: Topology,
    enis: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """What is wrong with the account `net` (hacompile.lab.existing_net.describe) after the
    tier went in: a second VPC, an LB interface outside the existing subnets or without the
    existing groups, an LB or slot address among `taken`, a taken address not held, the
    route to the internet gateway missing. [] when all is as it should be."""
    problems = []
    vpcs = [v["id"] for v in net["vpcs"] if not v["default"]]
    if vpcs != [created["vpc_id"]]:
        problems.append(f"VPCs besides the default one: {vpcs}, not just {created['vpc_id']}")
    subnet_ids = {s["subnet_id"] for s in created["subnets"]}
    if {s["id"] for s in net["subnets"] if s["vpc"] == created["vpc_id"]} != subnet_ids:
        problems.append("subnets in the existing VPC other than the existing ones")
    by_id = {e["id"]: e for e in net["enis"]}
    groups = set(created["security_groups"].values())
    taken = {ipaddress.ip_address(a) for a in ex.taken}
    for lb in topo.lbs:
        eni = by_id.get(enis[lb.key]["eni_id"])
        if eni is None:
            problems.append(f"{lb.key}: its interface is missing")
            continue
        if eni["subnet"] not in subnet_ids:
            problems.append(f"{lb.key}: interface in {eni['subnet']}, not an existing subnet")
        if not groups <= set(eni["groups"]):
            problems.append(f"{lb.key}: interface lacks the existing groups {sorted(groups)}")
        for ip in (lb.ip, *lb.slots):
            if ipaddress.ip_address(ip) in taken:
                problems.append(f"{lb.key}: {ip} is one of the taken addresses")
            if ip not in eni["ips"]:
                problems.append(f"{lb.key}: {ip} is not on its interface")
    lb_enis = {e["eni_id"] for e in enis.values()}
    for address in ex.taken:
        holders = [e["id"] for e in net["enis"] if address in e["ips"]]
        if not holders or set(holders) & lb_enis:
            problems.append(f"taken {address}: held by {holders or 'nothing'}, not another host")
    table = next((t for t in net["route_tables"] if t["id"] == created["route_table_id"]), None)
    if table is None or table["routes"].get("0.0.0.0/0") != created["igw_id"]:
        problems.append("no route 0.0.0.0/0 to the internet gateway")
    elif not subnet_ids <= set(table["subnets"]):
        problems.append("the route table is not associated with every existing subnet")
    return problems


def summary(
    net: Mapping[str, Any],
    ex: Existing,
    created: Mapping[str, Any],
    topo: Topology,
    enis: Mapping[str, Mapping[str, str]],
) -> dict[str, Any]:
    """The run's record of the existing network (LabRun.network): what the cloud created,
    how many VPCs EC2 reports, the tier's addresses, and `check_network`'s problems."""
    return {
        "vpc_id": created["vpc_id"],
        "vpcs": len(net["vpcs"]),  # the region's default VPC and the existing one
        "vpcs_not_default": [v["id"] for v in net["vpcs"] if not v["default"]],
        "subnets": [s["subnet_id"] for s in created["subnets"]],
        "security_groups": dict(created["security_groups"]),
        "taken": dict(created["taken"]),
        "lb_addresses": sorted({ip for lb in topo.lbs for ip in (lb.ip, *lb.slots)}),
        "problems": check_network(net, ex, created, topo, enis),
    }
