"""Turn pydantic's validation errors into located diagnostics.

pydantic reports a ``loc`` path that may contain validator names (``function-after[...]``,
union member tags); we keep only the parts that index into the data, look the path up in the
loader's position map, and phrase the message for a YAML author. Unknown keys get a "did you
mean" computed from the model's own field names at that level.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from hacompile.errors import Diagnostic, Loc, Severity, format_loc
from hacompile.load import Positions
from hacompile.spec.types import PATTERN_HELP


def data_loc(data: Any, loc: tuple[int | str, ...]) -> Loc:
    """Keep the loc parts that actually index into `data` (drops union/validator labels)."""
    kept: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            kept.append(part)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            kept.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and "[" not in part:
            kept.append(part)  # a missing key: keep it so the message names it
            node = None
    return tuple(kept)


def _model_at(root: type[BaseModel], loc: Loc) -> Any:
    """The model class whose fields live at `loc` (for "did you mean")."""
    current: Any = root
    for part in loc:
        if isinstance(part, int):
            current = _unwrap(current, want_item=True)
            continue
        model = _unwrap(current)
        if model is None or part not in model.model_fields:
            return None
        current = model.model_fields[part].annotation
    return _unwrap(current)


def _unwrap(tp: Any, *, want_item: bool = False) -> Any:
    """Strip Optional/Annotated/list/dict until a model class (or a list item type) shows."""
    for _ in range(8):
        if isinstance(tp, type) and issubclass(tp, BaseModel) and not want_item:
            return tp
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            tp = args[0]
        elif origin in (list, tuple) and args:
            if want_item:
                return args[0]
            return None
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in args if a is not type(None)]
            tp = models[0] if models else None
        else:
            return None
    return None


def _message(err: ErrorDetails, root: type[BaseModel], loc: Loc) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        model = _model_at(root, loc[:-1])
        fields = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        known = f" (known keys: {', '.join(fields)})" if fields and not close else ""
        return f"unknown key `{key}`{hint}{known}"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"must be one of {expected}; got {err['input']!r}"
    if kind == "string_pattern_mismatch":
        pattern = str(err.get("ctx", {}).get("pattern", ""))
        shown = repr(err["input"]) if len(str(err["input"])) <= 64 else "this value"
        return f"{shown} is not allowed here: {PATTERN_HELP.get(pattern, 'must match ' + pattern)}"
    if kind in (
        "int_type",
        "float_type",
        "string_type",
        "bool_type",
        "list_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "int_from_float",
    ):
        wanted = {
            "int_type": "an integer",
            "int_from_float": "an integer",
            "float_type": "a number",
            "string_type": "a string",
            "bool_type": "true or false",
            "list_type": "a list",
            "dict_type": "a mapping",
            "model_type": "a mapping",
            "model_attributes_type": "a mapping",
        }[kind]
        return f"expected {wanted}, got {_describe(err['input'])}"
    bounds = {
        "less_than_equal": "at most {le}",
        "greater_than_equal": "at least {ge}",
        "less_than": "below {lt}",
        "greater_than": "above {gt}",
        "too_short": "at least {min_length} item(s) long",
        "too_long": "at most {max_length} item(s) long",
    }
    if kind in bounds:
        ctx = err.get("ctx", {})
        got = err["input"]
        shown = f"got {len(got)}" if isinstance(got, list | dict) else f"got {got!r}"
        return f"must be {bounds[kind].format(**ctx)}; {shown}"
    text = err["msg"]
    return text.removeprefix("Value error, ")


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {value!r}"[:60]


def diagnostics_from(
    exc: ValidationError, data: Any, positions: Positions, root: type[BaseModel], file: str
) -> tuple[Diagnostic, ...]:
    out: dict[tuple[Loc, str], Diagnostic] = {}
    for err in exc.errors(include_url=False):
        loc = data_loc(data, err["loc"])
        if err["type"] == "missing":
            line, col = positions.locate(loc[:-1])
        else:
            # A bad mapping key (pydantic marks it "[key]") is shown at the key, not its value.
            at_key = err["type"] == "extra_forbidden" or "[key]" in err["loc"]
            line, col = positions.locate(loc, at_key=at_key)
        message = _message(err, root, loc)
        out.setdefault(
            (loc, message),
            Diagnostic(line, col, Severity.ERROR, format_loc(loc), message, file),
        )
    return tuple(out.values())
