"""Typed view of the committed AWS provider schema snapshot (data/aws_provider_schema.json).

Why a snapshot: there is no terraform binary or provider download offline, so
tools/extract_provider_schema.py distils the provider's schema from the npm CDK bindings once and
the checker reads only this small JSON, shipped inside the package so an installed wheel works.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

SCHEMA_RESOURCE = "aws_provider_schema.json"


@dataclass(frozen=True)
class Attribute:
    """An argument or attribute: mode is "required", "optional" or "computed" (read-only)."""

    name: str
    mode: str
    type: str
    computed: bool = False
    nested: BlockSchema | None = None


@dataclass(frozen=True)
class NestedBlock:
    """A nested block; nesting "single" means at most one may be written."""

    name: str
    nesting: str
    required: bool
    block: BlockSchema


@dataclass(frozen=True)
class BlockSchema:
    """Arguments, computed attributes and nested blocks of one resource, data source or block."""

    attributes: Mapping[str, Attribute]
    blocks: Mapping[str, NestedBlock]

    @property
    def referenceable(self) -> frozenset[str]:
        """Names valid after `type.name.`: every argument, computed attribute and block."""
        return frozenset(self.attributes) | frozenset(self.blocks)


@dataclass(frozen=True)
class Schema:
    """The whole snapshot: provenance, resource and data source schemas, removed arguments."""

    package: str
    package_version: str
    provider_version: str
    resources: Mapping[str, BlockSchema]
    data_sources: Mapping[str, BlockSchema]
    # "resource.aws_eip" -> {"vpc": "removed in provider 6: use domain = \"vpc\""}
    removed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # the `provider "aws"` block's own schema, which the stand-in provider serves to Terraform
    provider_config: BlockSchema | None = None

    def lookup(self, kind: str, type_name: str) -> BlockSchema | None:
        """Schema for ("resource" | "data", type), or None when the snapshot lacks it."""
        table = self.resources if kind == "resource" else self.data_sources
        found = table.get(type_name)
        if found is None and kind == "resource":
            return builtin_resources().get(type_name)
        return found


def builtin_resources() -> Mapping[str, BlockSchema]:
    """Terraform's own resources (provider terraform.io/builtin/terraform, never downloaded),
    which the AWS snapshot cannot list. The bundle uses terraform_data for the deployment ID."""
    return {
        "terraform_data": BlockSchema(
            attributes={
                "input": Attribute("input", "optional", "any"),
                "triggers_replace": Attribute("triggers_replace", "optional", "any"),
                "output": Attribute("output", "computed", "any", computed=True),
                "id": Attribute("id", "computed", "string", computed=True),
            },
            blocks={},
        )
    }


def _block(raw: Mapping[str, Any]) -> BlockSchema:
    attributes = {
        name: Attribute(
            name=name,
            mode=str(a["mode"]),
            type=str(a.get("type", "any")),
            computed=bool(a.get("computed", False)) or a["mode"] == "computed",
            nested=_block(a["nested"]) if "nested" in a else None,
        )
        for name, a in raw.get("attributes", {}).items()
    }
    blocks = {
        name: NestedBlock(
            name=name,
            nesting=str(b["nesting"]),
            required=bool(b.get("required", False)),
            block=_block(b["block"]),
        )
        for name, b in raw.get("blocks", {}).items()
    }
    return BlockSchema(attributes=attributes, blocks=blocks)


def schema_from_json(raw: Mapping[str, Any]) -> Schema:
    """Build a Schema from the snapshot's JSON document (also handy for tests)."""
    return Schema(
        package=str(raw["package"]["name"]),
        package_version=str(raw["package"]["version"]),
        provider_version=str(raw.get("provider", {}).get("version", "")),
        resources={k: _block(v) for k, v in raw.get("resources", {}).items()},
        data_sources={k: _block(v) for k, v in raw.get("data_sources", {}).items()},
        removed={k: dict(v) for k, v in raw.get("removed_in_v6", {}).items()},
        provider_config=_block(raw["provider_config"]) if "provider_config" in raw else None,
    )


def load_schema_json() -> dict[str, Any]:
    """The raw snapshot, read through importlib.resources so it works from a wheel."""
    ref = resources.files("hacompile.verify") / "data" / SCHEMA_RESOURCE
    data: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return data


def _literal_kind(value: Any) -> str | None:
    """Terraform type of a literal value, or None for expressions/null (not checkable)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "tuple"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, str) and value.startswith('"') and value.endswith('"'):
        return "string"
    return None


def type_problem(expected: str, value: Any) -> str | None:
    """Why a literal cannot be the expected plain type, or None when it fits (or is unknown)."""
    if isinstance(value, str) and not value.startswith(('"', "${")):
        return f"bare word `{value}` is not a value; quote it or write a full reference"
    kind = _literal_kind(value)
    if kind is None or expected == "any":
        return None
    outer, _, elem = expected.partition("(")
    elem = elem.rstrip(")")
    ok = {
        "string": kind in ("string", "number", "bool"),  # Terraform converts these to strings
        "number": kind == "number",
        "bool": kind == "bool",
        "list": kind == "tuple",
        "set": kind == "tuple",
        "map": kind == "object",
        "object": kind == "object",
    }.get(outer, True)
    if not ok:
        shown = {"tuple": "a list", "object": "an object/map", "string": "a string"}.get(
            kind, f"a {kind}"
        )
        return f"expects {expected}, got {shown} literal"
    items = value if kind == "tuple" else value.values() if kind == "object" else []
    if outer in ("list", "set", "map") and elem and elem != "object":
        for item in items:
            if (problem := type_problem(elem, item)) is not None:
                return f"element {problem}"
    return None


def unquote(label: str) -> str:
    """python-hcl2 8 keeps the quotes of block labels; strip them."""
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def is_block_list(value: Any) -> bool:
    """True for python-hcl2 8 block bodies (`__is_block__`), false for `x = {...}` values."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and v.get("__is_block__") is True for v in value)
    )


def did_you_mean(word: str, options: list[str]) -> str:
    """A "did you mean" suffix for a message, or "" when nothing is close."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
