"""Offline Terraform checker: validates generated `.tf` files against the AWS provider 6 schema.

Why: `terraform validate` needs the provider binary, which cannot be downloaded here. Most
mistakes a generator makes (a typo'd or removed argument, a block written as an argument, a
reference to an attribute that does not exist or to a counted resource without an index) are
visible from the provider schema alone, so we check against a committed snapshot of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from hacompile.verify.tfmodel import (
    BlockSchema,
    Schema,
    did_you_mean,
    is_block_list,
    load_schema_json,
    schema_from_json,
    type_problem,
    unquote,
)
from hacompile.verify.tfrefs import Ref, extract_refs

__all__ = ["Finding", "Schema", "check_terraform_dir", "load_schema"]

RESOURCE_META = frozenset(
    {
        "count",
        "for_each",
        "depends_on",
        "provider",
        "lifecycle",
        "provisioner",
        "connection",
        "timeouts",
    }
)
_NO_COMMENTS = SerializationOptions(with_comments=False)
NOT_CHECKED = frozenset({"lifecycle", "provisioner", "connection"})  # Terraform-owned blocks


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: the .tf file (relative to the checked dir), the block, and what is wrong."""

    path: str
    message: str
    block: str = ""


@cache
def load_schema() -> Schema:
    """The committed provider schema snapshot (read once per process)."""
    return schema_from_json(load_schema_json())


@dataclass(frozen=True)
class _Decl:
    kind: str  # "resource" | "data"
    type: str
    name: str
    body: Mapping[str, Any]
    file: str
    indexed: bool  # uses count or for_each

    @property
    def address(self) -> str:
        prefix = "data." if self.kind == "data" else ""
        return f"{prefix}{self.type}.{self.name}"


class _Checker:
    """Holds the declarations of one directory and accumulates findings."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.findings: list[Finding] = []
        self.decls: dict[str, _Decl] = {}
        self.variables: set[str] = set()
        self.locals: set[str] = set()
        self.modules: set[str] = set()
        self.others: list[tuple[str, str, Any]] = []  # (file, label, body) checked for refs only

    def add(self, file: str, block: str, message: str) -> None:
        self.findings.append(Finding(path=file, message=message, block=block))

    def collect(self, file: str, doc: Mapping[str, Any]) -> None:
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                for type_label, named in entry.items():
                    for name_label, body in named.items():
                        decl = _Decl(
                            kind,
                            unquote(type_label),
                            unquote(name_label),
                            body,
                            file,
                            "count" in body or "for_each" in body,
                        )
                        if decl.address in self.decls:
                            self.add(file, decl.address, "declared more than once")
                        self.decls[decl.address] = decl
        for entry in doc.get("variable", []):
            for label, body in entry.items():
                self.variables.add(unquote(label))
                self.others.append(
                    (file, f"var.{unquote(label)}", {k: v for k, v in body.items() if k != "type"})
                )
        for body in doc.get("locals", []):
            self.locals.update(k for k in body if k != "__is_block__")
            self.others.append((file, "locals", body))
        for key in ("module", "output", "provider"):
            for entry in doc.get(key, []):
                for label, body in entry.items():
                    if key == "module":
                        self.modules.add(unquote(label))
                    self.others.append(
                        (
                            file,
                            f"{key}.{unquote(label)}",
                            {k: v for k, v in body.items() if k != "providers"},
                        )
                    )

    def run(self) -> None:
        for decl in self.decls.values():
            schema = self.schema.lookup(decl.kind, decl.type)
            if schema is None:
                self.add(
                    decl.file,
                    decl.address,
                    f'{decl.kind} type "{decl.type}" is not in the snapshot '
                    f"({self.schema.package} {self.schema.package_version}); "
                    "add it to tools/extract_provider_schema.py",
                )
            else:
                removed = self.schema.removed.get(f"{decl.kind}.{decl.type}", {})
                self.body(decl, schema, decl.body, "", removed, top=True)
            self.refs(decl.file, decl.address, decl.body, frozenset())
        for file, label, body in self.others:
            self.refs(file, label, body, frozenset())

    # ---- schema checks -------------------------------------------------------------------

    def body(
        self,
        decl: _Decl,
        schema: BlockSchema,
        body: Mapping[str, Any],
        prefix: str,
        removed: Mapping[str, str],
        *,
        top: bool = False,
    ) -> None:
        where = decl.address
        present: set[str] = set()
        for key, value in body.items():
            if key == "__is_block__" or (
                top and key in RESOURCE_META and (key not in schema.blocks or key in NOT_CHECKED)
            ):
                continue
            path = prefix + key
            if key == "dynamic":
                present.update(self.dynamic(decl, schema, value, prefix))
                continue
            present.add(key)
            is_block = is_block_list(value)
            if key in schema.blocks:
                nb = schema.blocks[key]
                if not is_block:
                    self.add(
                        decl.file,
                        where,
                        f"{path}: is a block; write `{key} {{ ... }}`, not `{key} = ...`",
                    )
                    continue
                if nb.nesting == "single" and len(value) > 1:
                    self.add(
                        decl.file,
                        where,
                        f"{path}: at most one `{key}` block is allowed, found {len(value)}",
                    )
                for item in value:
                    self.body(decl, nb.block, item, path + ".", {})
                continue
            attr = schema.attributes.get(key)
            if attr is None:
                if key in removed:
                    self.add(decl.file, where, f"{path}: {removed[key]}")
                else:
                    self.add(
                        decl.file,
                        where,
                        f"{path}: unsupported argument"
                        + did_you_mean(key, [*schema.attributes, *schema.blocks]),
                    )
            elif attr.mode == "computed":
                self.add(
                    decl.file,
                    where,
                    f"{path}: is computed by the provider (read-only) and cannot be set",
                )
            elif is_block:
                self.add(
                    decl.file, where, f"{path}: is an argument; write `{key} = ...`, not a block"
                )
            elif (problem := type_problem(attr.type, value)) is not None:
                self.add(decl.file, where, f"{path}: {problem}")
        for name, attr in schema.attributes.items():
            if attr.mode == "required" and name not in present:
                self.add(decl.file, where, f"{prefix}{name}: required argument is missing")
        for name, nb in schema.blocks.items():
            if nb.required and name not in present:
                self.add(decl.file, where, f"{prefix}{name}: required block is missing")

    def dynamic(self, decl: _Decl, schema: BlockSchema, value: Any, prefix: str) -> set[str]:
        names: set[str] = set()
        for entry in value if isinstance(value, list) else []:
            for label, dyn in entry.items():
                name = unquote(label)
                names.add(name)
                nb = schema.blocks.get(name)
                if nb is None:
                    self.add(
                        decl.file,
                        decl.address,
                        f"{prefix}dynamic {name}: not a block"
                        + did_you_mean(name, list(schema.blocks)),
                    )
                    continue
                for content in dyn.get("content", []):
                    self.body(decl, nb.block, content, f"{prefix}{name}.", {})
        return names

    # ---- references ----------------------------------------------------------------------

    def refs(self, file: str, where: str, value: Any, scoped: frozenset[str]) -> None:
        if isinstance(value, str):
            for ref in extract_refs(value, scoped):
                if (problem := self.resolve(ref)) is not None:
                    self.add(file, where, f"reference {ref.text}: {problem}")
        elif isinstance(value, list):
            for item in value:
                self.refs(file, where, item, scoped)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if key == "lifecycle":
                    item = [{k: v for k, v in b.items() if k != "ignore_changes"} for b in item]
                if key in ("provider", "iterator"):
                    continue
                if key == "dynamic":  # the block label (or `iterator`) names a local iterator
                    for entry in item:
                        for label, dyn in entry.items():
                            it = str(dyn.get("iterator", unquote(label)))
                            self.refs(file, where, dyn, scoped | {it})
                    continue
                self.refs(file, where, item, scoped)

    def resolve(self, ref: Ref) -> str | None:
        steps = ref.steps
        if ref.root in ("var", "local", "module"):
            declared = {"var": self.variables, "local": self.locals, "module": self.modules}
            name = steps[0].value
            if steps[0].kind != "attr" or name not in declared[ref.root]:
                noun = {"var": "variable", "local": "local value", "module": "module"}[ref.root]
                return f"no {noun} {name!r} is declared" + did_you_mean(
                    name, sorted(declared[ref.root])
                )
            return None
        if ref.root == "data":
            if len(steps) < 2 or steps[0].kind != "attr" or steps[1].kind != "attr":
                return "malformed data source reference"
            address, rest = f"data.{steps[0].value}.{steps[1].value}", steps[2:]
        else:
            if steps[0].kind != "attr":
                return None  # e.g. an object value indexed directly; not a resource address
            address, rest = f"{ref.root}.{steps[0].value}", steps[1:]
        decl = self.decls.get(address)
        if decl is None:
            return f"{address} is not declared" + did_you_mean(address, sorted(self.decls))
        if not rest:
            return None  # the whole object (or collection): depends_on, for, length(), ...
        if decl.indexed and rest[0].kind == "attr":
            return (
                f"{address} uses count/for_each; index it ({address}[0].{rest[0].value}, "
                f'{address}["key"]...) or splat it ({address}[*].{rest[0].value})'
            )
        if not decl.indexed and rest[0].kind in ("index", "splat"):
            return f"{address} has no count/for_each and must not be indexed"
        attr = next((s for s in rest if s.kind == "attr"), None)
        schema = self.schema.lookup(decl.kind, decl.type)
        if attr is None or schema is None or attr.value in schema.referenceable:
            return None
        return f"{decl.type} has no attribute {attr.value!r}" + did_you_mean(
            attr.value, sorted(schema.referenceable)
        )


def check_terraform_dir(path: Path, schema: Schema | None = None) -> tuple[Finding, ...]:
    """Check every `*.tf` file in `path` (one module) and return findings, sorted."""
    checker = _Checker(schema if schema is not None else load_schema())
    for tf in sorted(Path(path).glob("*.tf")):
        rel = tf.name
        try:
            with tf.open(encoding="utf-8") as fh:
                # Comments are not code: a `# checkov:skip=...` inside a block is no argument.
                doc = hcl2.load(fh, serialization_options=_NO_COMMENTS)
        except Exception as exc:  # python-hcl2 raises several lark error types
            checker.add(rel, "", f"HCL parse error: {exc}")
            continue
        checker.collect(rel, doc)
    checker.run()
    return tuple(sorted(set(checker.findings)))
