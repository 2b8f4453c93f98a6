"""What the stand-in AWS provider says to Terraform: schemas as tfplugin6 messages, and the
values it plans and reads (msgpack-encoded cty values).

Why a module of its own: the gRPC plumbing (tfprovider_stub.py) and these rules change for
different reasons. The rules follow the real provider where Terraform can tell the
difference:
- a block the snapshot calls "single" is served as a list of at most one item, as the real
  (SDKv2) provider serves `metadata_options`, `root_block_device`, ...: served as a single
  object, `metadata_options[0].http_tokens` would be a false "Invalid index operation";
  only `timeouts` is a real single block;
- a plan keeps every configured value and makes each computed attribute left null
  "known after apply", as a create plan of the real provider does;
- a data source read fills each computed attribute with a fixed stand-in value of its type
  (Terraform refuses a read result that is not wholly known); strings are non-empty so
  `coalesce(var.ami_id, data.aws_ami.x.id)` works as it does against AWS.
Values are decoded and re-encoded generically: unknown values (msgpack extension 0, possibly
carrying refinements) and dynamically typed values pass through byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgpack
from tf.gen import tfplugin_pb2 as pb

from hacompile.verify.tfmodel import Attribute, BlockSchema, NestedBlock

__all__ = [
    "UNKNOWN",
    "block_proto",
    "cty_type",
    "decode",
    "encode",
    "planned_value",
    "read_value",
]

# cty's msgpack encoding of an unknown value without refinements.
UNKNOWN = msgpack.ExtType(0, b"\x00")
REAL_SINGLE_BLOCKS = frozenset({"timeouts"})
_NESTING = {
    "list": pb.Schema.NestedBlock.LIST,
    "set": pb.Schema.NestedBlock.SET,
    "map": pb.Schema.NestedBlock.MAP,
}


def cty_type(type_name: str) -> Any:
    """The cty type (its JSON form) of a snapshot type such as `list(string)`.

    The snapshot does not know the element types of a few computed-only object lists
    (`aws_ami.block_device_mappings`), so objects are served as dynamic values.
    """
    if type_name in ("string", "number", "bool"):
        return type_name
    outer, sep, inner = type_name.partition("(")
    if sep and outer in ("list", "set", "map"):
        return [outer, cty_type(inner[:-1])]
    return "dynamic"


def _attribute_proto(attr: Attribute) -> Any:
    return pb.Schema.Attribute(
        name=attr.name,
        type=json.dumps(cty_type(attr.type)).encode(),
        required=attr.mode == "required",
        optional=attr.mode == "optional",
        computed=attr.computed,
    )


def _nested_proto(nested: NestedBlock) -> Any:
    if nested.nesting == "single" and nested.name not in REAL_SINGLE_BLOCKS:
        mode, min_items, max_items = pb.Schema.NestedBlock.LIST, int(nested.required), 1
    elif nested.nesting == "single":
        mode, min_items, max_items = pb.Schema.NestedBlock.SINGLE, 0, 0
    else:
        mode, min_items, max_items = _NESTING[nested.nesting], int(nested.required), 0
    return pb.Schema.NestedBlock(
        type_name=nested.name,
        block=block_proto(nested.block),
        nesting=mode,
        min_items=min_items,
        max_items=max_items,
    )


def block_proto(block: BlockSchema) -> Any:
    """A tfplugin6 `Schema.Block` for one resource, data source or provider block."""
    return pb.Schema.Block(
        attributes=[_attribute_proto(block.attributes[n]) for n in sorted(block.attributes)],
        block_types=[_nested_proto(block.blocks[n]) for n in sorted(block.blocks)],
    )


def decode(raw: bytes) -> Any:
    """A DynamicValue's msgpack bytes as Python values; unknowns stay `msgpack.ExtType`."""
    if not raw:
        return None
    return msgpack.unpackb(raw, raw=False, strict_map_key=False)


def encode(value: Any) -> bytes:
    """The inverse of `decode`: msgpack bytes for a DynamicValue."""
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def _walk(block: BlockSchema, value: Any, fill: Callable[[Attribute], Any]) -> Any:
    """`value` with every computed attribute that is null replaced by `fill(attribute)`."""
    if not isinstance(value, dict):
        return value  # null (no object) or unknown: nothing to fill in
    out = dict(value)
    for name, attr in block.attributes.items():
        if attr.computed and out.get(name) is None:
            out[name] = fill(attr)
    for name, nested in block.blocks.items():
        items = out.get(name)
        if isinstance(items, list):
            out[name] = [_walk(nested.block, item, fill) for item in items]
        elif isinstance(items, dict) and nested.nesting == "map":
            out[name] = {k: _walk(nested.block, v, fill) for k, v in items.items()}
        else:
            out[name] = _walk(nested.block, items, fill)
    return out


def planned_value(block: BlockSchema, proposed: Any) -> Any:
    """The planned new state of a create or update: unset computed attributes are unknown."""
    return _walk(block, proposed, lambda _attr: UNKNOWN)


def _stand_in(attr: Attribute) -> Any:
    kind = cty_type(attr.type)
    if kind == "string":
        return f"hacompile-stub-{attr.name}"
    if kind == "number":
        return 0
    if kind == "bool":
        return False
    if kind == "dynamic":  # a dynamic value travels with its type
        return [json.dumps("string").encode(), f"hacompile-stub-{attr.name}"]
    return {} if kind[0] == "map" else []


def read_value(block: BlockSchema, config: Any, known: dict[str, Any] | None = None) -> Any:
    """A data source's state: its configuration with every computed attribute known; `known`
    gives some attributes their values (an existing network as the spec states it), an
    object-typed one (served dynamic) as a list of objects of strings."""
    state = _walk(block, config, _stand_in)
    for name, value in (known or {}).items():
        attr = block.attributes.get(name)
        if attr is None or not isinstance(state, dict):
            continue
        kind = cty_type(attr.type)
        if isinstance(kind, list) and kind[1] == "dynamic":  # a list or set of objects
            state[name] = [
                [json.dumps(["object", {k: "string" for k in item}]).encode(), item]
                for item in value
            ]
        elif kind == "dynamic":
            rows = ["list", ["object", {k: "string" for item in value for k in item}]]
            state[name] = [json.dumps(rows).encode(), value]
        else:
            state[name] = value
    return state
