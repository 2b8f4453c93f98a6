#!/usr/bin/env python3
"""Extract a compact AWS provider schema snapshot from the npm package @cdktn/provider-aws.

Why: no terraform binary or provider download is reachable here, but the CDK-for-Terraform
bindings on npm are generated from the provider's own schema. The `.jsii` assembly lists each
resource's config properties (their exact Terraform names sit in the docs link anchor
`#snake_name`, which is the only reliable spelling: camelCase -> snake_case is wrong for dozens
of arguments such as `get_password_data`), and the TypeScript source embedded in each
`lib/<dir>/index.js` source map carries `// name - computed: .., optional: .., required: ..`
comments plus the HCL synthesis table (`isBlock`, list/set/simple/map). Together they give what
the offline checker (hacompile/verify/tfschema.py) needs, in well under 1 MB of JSON. The
`provider "aws"` block's own schema is extracted too (`provider_config`): the stand-in provider
that real `terraform validate`/`plan` run against (hacompile/verify/tfprovider_stub.py) serves it.

Usage (one command; downloads the tarball with npm into a temp dir, nothing is committed):

    python tools/extract_provider_schema.py --fetch @cdktn/provider-aws

or, with an already unpacked package:

    python tools/extract_provider_schema.py /tmp/prov/pkg/package
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "hacompile/verify/data/aws_provider_schema.json"

# Types the checker knows; the brief's list plus a few the generator may grow into.
RESOURCES = (
    "aws_vpc",
    "aws_subnet",
    "aws_internet_gateway",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_security_group",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_default_security_group",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_policy",
    "aws_iam_role_policy_attachment",
    "aws_iam_instance_profile",
    "aws_instance",
    "aws_eip",
    "aws_eip_association",
    "aws_network_interface",
    "aws_key_pair",
    "aws_flow_log",
    "aws_cloudwatch_log_group",
    "aws_ssm_parameter",
    "aws_launch_template",
    "aws_nat_gateway",
    "aws_network_interface_attachment",
    "aws_placement_group",
    "aws_ec2_tag",
    "aws_ebs_volume",
    "aws_volume_attachment",
    # issue 14: the EC2 API endpoint, DNS records with health checks
    "aws_vpc_endpoint",
    "aws_route53_record",
    "aws_route53_health_check",
)
DATA_SOURCES = (
    "aws_ami",
    "aws_availability_zones",
    "aws_iam_policy_document",
    "aws_caller_identity",
    "aws_partition",
    "aws_region",
    "aws_vpc",
    "aws_subnet",
    "aws_subnets",
    "aws_ssm_parameter",
    # issue 14: checking a network the user already has, and their hosted zone
    "aws_route_table",
    "aws_internet_gateway",
    "aws_route53_zone",
)

# Hand-maintained: arguments that existed in provider 5.x and were removed in 6.0. Each entry was
# confirmed by diffing this extractor's output for @cdktf/provider-aws@19.50.0 (provider 5.84.0)
# against @cdktn/provider-aws 25.x (provider 6.66) and matches the 6.0.0 upgrade notes. The
# extractor asserts each one is really absent from the new schema, so a stale entry fails loudly.
REMOVED_IN_V6: dict[str, dict[str, str]] = {
    "resource.aws_eip": {"vpc": 'removed in provider 6: use domain = "vpc"'},
    "resource.aws_instance": {
        "cpu_core_count": "removed in provider 6: use cpu_options { core_count = ... }",
        "cpu_threads_per_core": "removed in provider 6: use cpu_options { threads_per_core = ... }",
    },
    "resource.aws_launch_template": {
        "elastic_gpu_specifications": "removed in provider 6 (Elastic Graphics end of life)",
        "elastic_inference_accelerator": "removed in provider 6 (Elastic Inference end of life)",
    },
    "resource.aws_flow_log": {
        "log_group_name": "removed in provider 6: use log_destination (a log group ARN)",
    },
}

COMMENT_RE = re.compile(
    r"^\s*// (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\s*$"
)
CLASS_RE = re.compile(r"^\s*(?:export )?class (\w+) extends")
GETTER_RE = re.compile(r"^\s*(?:public )?get (\w+)\(\)")
HCL_FN_RE = re.compile(r"function (\w+)ToHclTerraform\(")
HCL_ATTR_RE = re.compile(
    r"^\s*(\w+): \{\s*value: ([^\n]*)\n\s*isBlock: (true|false),\s*type: \"(\w+)\",\s*"
    r"storageClassType: \"(\w+)\"",
    re.M,
)
# The property an HCL synthesis entry reads: `this._accessKey` (a class) or `struct!.tags`.
HCL_PROP_RE = re.compile(r"(?:this\._|struct!?\.)(\w+)\)")
LINK_RE = re.compile(r"\{@link (\S+) ([\w#]+)\}")
GETTER_TYPES = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": "list(string)",
    "getNumberListAttribute": "list(number)",
    "getStringMapAttribute": "map(string)",
    "getNumberMapAttribute": "map(number)",
    "getBooleanMapAttribute": "map(bool)",
    "interpolationForAttribute": "any",
}

Json = dict[str, Any]


class Source:
    """One `lib/<dir>/index.js`: per-class property comments and per-struct HCL synthesis info."""

    def __init__(self, js_path: Path) -> None:
        text = js_path.read_text(encoding="utf-8")
        match = re.search(r"sourceMappingURL=data:application/json;base64,(\S+)", text)
        if match:  # the TypeScript source is richer (getter bodies keep their types)
            source_map = json.loads(base64.b64decode(match.group(1)))
            text = (source_map.get("sourcesContent") or [text])[0]
        self.comments: dict[str, dict[str, tuple[bool, bool, bool, str]]] = {}
        self.hcl: dict[str, dict[str, tuple[bool, str, str]]] = {}
        # owner -> camelCase property -> Terraform name, read off the same synthesis tables: the
        # provider's own config properties carry no docs anchor to take the name from.
        self.names: dict[str, dict[str, str]] = {}
        self._scan(text)

    def _scan(self, text: str) -> None:
        lines = text.splitlines()
        cls = ""
        for i, line in enumerate(lines):
            if m := CLASS_RE.match(line):
                cls = m.group(1)
            elif m := COMMENT_RE.match(line):
                body_lines: list[str] = []
                for nxt in lines[i + 1 : i + 12]:  # this property's section ends at a blank line
                    if not nxt.strip() or COMMENT_RE.match(nxt):
                        break
                    body_lines.append(nxt)
                body = "\n".join(body_lines)
                self.comments.setdefault(cls, {})[m.group(1)] = (
                    m.group(2) == "true",
                    m.group(3) == "true",
                    m.group(4) == "true",
                    _getter_type(body),
                )
        # HCL synthesis tables: one per struct function and one per resource class.
        starts = [(m.start(), m.group(1)) for m in HCL_FN_RE.finditer(text)]
        starts += [
            (m.start(), "__resource__") for m in re.finditer(r"synthesizeHclAttributes\(", text)
        ]
        starts.sort()
        for idx, (pos, owner) in enumerate(starts):
            end = starts[idx + 1][0] if idx + 1 < len(starts) else len(text)
            key = owner[:1].upper() + owner[1:]
            table = self.hcl.setdefault(key, {})
            names = self.names.setdefault(key, {})
            for m in HCL_ATTR_RE.finditer(text, pos, end):
                table[m.group(1)] = (m.group(3) == "true", m.group(4), m.group(5))
                if prop := HCL_PROP_RE.search(m.group(2)):
                    names[prop.group(1)] = m.group(1)


def _getter_type(body: str) -> str:
    if m := re.search(r"new (\w+)(List|Map)\(this", body):
        return "list(object)" if m.group(2) == "List" else "map(object)"
    if m := re.search(r"new cdkt[fn]\.(String|Number|Boolean|Any)Map\(this", body):
        return (
            "map("
            + {"String": "string", "Number": "number", "Boolean": "bool"}.get(m.group(1), "any")
            + ")"
        )
    if re.search(r"new \w+OutputReference\(this", body):
        return "object"
    for name, typ in GETTER_TYPES.items():
        if name in body:
            if "tolist(" in body and typ.startswith("list"):
                return "set" + typ[4:]
            return typ
    return "any"


class Extractor:
    """Walks jsii structs for the wanted Terraform types and builds block schemas."""

    def __init__(self, pkg: Path) -> None:
        self.pkg = pkg
        self.meta = json.loads((pkg / "package.json").read_text(encoding="utf-8"))
        print(f"loading {pkg / '.jsii'} ...", file=sys.stderr)
        self.types: dict[str, Json] = json.loads((pkg / ".jsii").read_text(encoding="utf-8"))[
            "types"
        ]
        self.sources: dict[str, Source] = {}

    def find_classes(self) -> dict[str, Json]:
        """Map `resource.aws_x` / `data.aws_x` to the jsii class that represents it."""
        found: dict[str, Json] = {}
        for t in self.types.values():
            summary = t.get("docs", {}).get("summary", "")
            if t.get("kind") != "class" or not summary.startswith("Represents a {@link"):
                continue
            m = LINK_RE.search(summary)
            if not m or "/docs/" not in m.group(1):
                continue
            kind = "data" if "/docs/data-sources/" in m.group(1) else "resource"
            found[f"{kind}.{m.group(2)}"] = t
        return found

    def source_for(self, jsii_type: Json) -> Source:
        rel = jsii_type["locationInModule"]["filename"]  # src/instance/index.ts
        js = self.pkg / "lib" / Path(rel).parent.relative_to("src") / "index.js"
        if str(js) not in self.sources:
            self.sources[str(js)] = Source(js)
        return self.sources[str(js)]

    def type_schema(self, cls: Json) -> Json:
        config_fqn = next(
            p["type"]["fqn"] for p in cls["initializer"]["parameters"] if p["name"] == "config"
        )
        src = self.source_for(cls)
        return self.block(config_fqn, cls["name"], src.hcl.get("__resource__", {}), src)

    def provider_schema(self) -> Json:
        """The `provider "aws"` block's own schema (Terraform's `alias` meta-argument left out).

        Why: a real `terraform validate` checks the provider block against it, so the stand-in
        provider (hacompile/verify/tfprovider_stub.py) must serve it.
        """
        cls = self.types[f"{self.meta['name']}.provider.AwsProvider"]
        config_fqn = next(
            p["type"]["fqn"] for p in cls["initializer"]["parameters"] if p["name"] == "config"
        )
        src = self.source_for(cls)
        hcl = src.hcl.get("__resource__", {})
        schema = self.block(config_fqn, cls["name"], hcl, src, src.names.get("__resource__", {}))
        del schema["attributes"]["alias"]
        return schema

    def block(
        self,
        struct_fqn: str,
        class_name: str,
        hcl: dict[str, tuple[bool, str, str]],
        src: Source,
        names: dict[str, str] | None = None,
    ) -> Json:
        """`names` (camelCase -> Terraform name) is the fallback for properties whose docs carry
        no `#anchor` (the provider's config); only properties `hcl` synthesizes are kept then."""
        struct = self.types[struct_fqn]
        comments = src.comments.get(class_name, {})
        attributes: Json = {}
        blocks: Json = {}
        for prop in struct.get("properties", []):
            docs = prop.get("docs", {})
            link = LINK_RE.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
            if names is not None and (not link or "#" not in link.group(1)):
                if names.get(prop["name"]) not in hcl:
                    raise SystemExit(f"{struct_fqn}.{prop['name']}: no Terraform name found")
                name = names[prop["name"]]
            elif not link or "#" not in link.group(1):
                raise SystemExit(f"{struct_fqn}.{prop['name']}: no docs anchor")
            else:
                name = link.group(1).rsplit("#", 1)[1]
            computed, _, required, _ = comments.get(name, (False, True, False, "any"))
            required = required or not prop.get("optional", False)
            is_block, hcl_kind, _ = hcl.get(name, (False, "simple", ""))
            typ, nested_fqn, repeated = self.prop_type(prop["type"])
            if nested_fqn is not None:
                child_name = self.types[nested_fqn]["name"]
                child = self.block(
                    nested_fqn,
                    child_name + "OutputReference",
                    src.hcl.get(child_name, {}),
                    src,
                    None if names is None else src.names.get(child_name, {}),
                )
                if is_block:
                    nesting = ("set" if hcl_kind == "set" else "list") if repeated else "single"
                    blocks[name] = {"nesting": nesting, "required": required, "block": child}
                    continue
                attributes[name] = {
                    "mode": "required" if required else "optional",
                    "type": typ,
                    "nested": child,
                }
                continue
            if hcl_kind == "set" and typ.startswith("list("):
                typ = "set" + typ[4:]
            entry: Json = {"mode": "required" if required else "optional", "type": typ}
            if computed:
                entry["computed"] = True
            attributes[name] = entry
        for name, (computed, optional, required, gtype) in comments.items():
            if name in attributes or name in blocks:
                continue
            if computed and not optional and not required:
                attributes[name] = {"mode": "computed", "type": gtype}
        return {"attributes": attributes, "blocks": blocks}

    def prop_type(self, t: Json) -> tuple[str, str | None, bool]:
        """(plain type, nested struct fqn or None, repeated?) for one jsii type reference."""
        if "union" in t:
            inner = [
                u
                for u in t["union"]["types"]
                if u.get("fqn") != "cdktn.IResolvable" and u.get("fqn") != "cdktf.IResolvable"
            ]
            if len(inner) != 1:
                return "any", None, False
            t = inner[0]
        if "primitive" in t:
            prim = str(t["primitive"])
            return {"boolean": "bool", "json": "any"}.get(prim, prim), None, False
        if "collection" in t:
            kind = "list" if t["collection"]["kind"] == "array" else "map"
            elem, fqn, _ = self.prop_type(t["collection"]["elementtype"])
            if fqn is not None:
                return f"{kind}(object)", fqn, True
            return f"{kind}({elem})", None, False
        fqn = t.get("fqn", "")
        if fqn in self.types and self.types[fqn].get("datatype"):
            return "object", fqn, False
        return "any", None, False


def build(pkg: Path) -> Json:
    ex = Extractor(pkg)
    classes = ex.find_classes()
    out: Json = {
        "format": 1,
        "package": {"name": ex.meta["name"], "version": ex.meta["version"]},
        "provider": ex.meta.get("cdktf", {}).get("provider", {}),
        "removed_in_v6": REMOVED_IN_V6,
        "provider_config": ex.provider_schema(),
        "resources": {},
        "data_sources": {},
    }
    for kind, names, key in (
        ("resource", RESOURCES, "resources"),
        ("data", DATA_SOURCES, "data_sources"),
    ):
        for name in names:
            cls = classes.get(f"{kind}.{name}")
            if cls is None:
                raise SystemExit(f"{kind} {name} not found in {pkg}")
            out[key][name] = ex.type_schema(cls)
    for qual, args in REMOVED_IN_V6.items():
        kind, name = qual.split(".", 1)
        schema = out["resources" if kind == "resource" else "data_sources"][name]
        for arg in args:
            if arg in schema["attributes"] or arg in schema["blocks"]:
                print(f"warning: {qual}.{arg} is listed as removed but exists", file=sys.stderr)
    return out


def fetch(spec: str, workdir: Path) -> Path:
    """`npm pack` the package into workdir and unpack it (no node_modules, no install scripts)."""
    subprocess.run(
        ["npm", "pack", spec, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL
    )
    tgz = next(workdir.glob("*.tgz"))
    with tarfile.open(tgz) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("package", nargs="?", type=Path, help="unpacked npm package directory")
    parser.add_argument(
        "--fetch", metavar="SPEC", help="npm spec to download, e.g. @cdktn/provider-aws"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if (args.package is None) == (args.fetch is None):
        parser.error("give either a package directory or --fetch SPEC")
    with tempfile.TemporaryDirectory(prefix="provider-aws-") as tmp:
        pkg = fetch(args.fetch, Path(tmp)) if args.fetch else args.package
        snapshot = build(pkg)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
