"""Format values as HCL literals, and lay out HCL exactly as `terraform fmt` would.

Every string that reaches a .tf file goes through `literal` (or `inner`, the same escaping
for a fragment of a quoted string), which escapes what HCL would otherwise interpret (``${``
and ``%{`` template sequences, quotes, backslashes, control characters). `fmt` aligns the
``=`` of consecutive single-line attributes the way hclwrite does, so generated files pass
`terraform fmt -check` without Terraform being installed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from hacompile.plan.module import Expr

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    text = "".join(out).replace("${", "$${").replace("%{", "%%{")
    return f'"{text}"'


def inner(value: str) -> str:
    """A string escaped as for `quote`, without the quotes: for text inside an HCL string
    that also holds Terraform's own interpolation, ``"{{ prefix | hcl_inner }}${each.key}"``."""
    if not isinstance(value, str):
        raise TypeError(f"hcl_inner formats strings, not {type(value).__name__}")
    if value.endswith(("$", "%")):  # would join a following ${ into the escape $${
        raise ValueError(f"hcl_inner cannot end a fragment with {value[-1]!r}: {value!r}")
    return quote(value)[1:-1]


def literal(value: object) -> str:
    """A Python value as an HCL expression: strings quoted, sequences as one-line tuples."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{quote(str(k))} = {literal(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise TypeError(f"cannot express {type(value).__name__} in HCL")


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _key(key: object) -> str:
    """An object key: bare where HCL reads it as a literal name, quoted otherwise."""
    text = str(key)
    return (
        text if _IDENTIFIER.match(text) and text not in ("true", "false", "null") else quote(text)
    )


_ONE_LINE = 72  # characters of a flat object argument written on one line


def argument(value: object, indent: int = 2) -> str:
    """A module argument's value, laid out as a reader expects it: a Terraform expression
    (`hacompile.plan.module.Expr`, fixed text chosen by hacompile) as is; an object whose
    values are objects one entry per line (a table: one row per key); flat objects with bare
    keys on one line, or one entry per line when a top-level one is long; every other value
    through `literal`."""
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        if any(isinstance(v, Mapping | Expr) for v in value.values()):
            pad = " " * (indent + 2)
            lines = [f"{pad}{_key(k)} = {argument(v, indent + 2)}" for k, v in value.items()]
            return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"
        inner = ", ".join(f"{_key(k)} = {literal(v)}" for k, v in value.items())
        if indent == 2 and len(inner) > _ONE_LINE:  # a long argument: one entry per line
            pad = " " * (indent + 2)
            lines = [f"{pad}{_key(k)} = {literal(v)}" for k, v in value.items()]
            return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"
        return "{ " + inner + " }"
    return literal(value)


_ATTR = re.compile(
    r'^(?P<indent>\s*)(?P<key>[A-Za-z_][\w-]*|"[^"]*"|\([\w.]+\))\s*=\s*(?P<value>.*)$'
)


def _balanced(text: str) -> bool:
    """True when a value closes every bracket it opens on the same line (strings ignored)."""
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth == 0 and not in_string


def fmt(source: str) -> str:
    """Align ``=`` in runs of consecutive attributes at one indent, as `terraform fmt` does.

    A run is broken by a blank line, a comment, a block header or a change of indentation. A
    line whose value opens a multi-line expression (``value = {``) ends the run and is not
    aligned itself, as `terraform fmt` leaves it.
    """
    lines = source.split("\n")
    out = list(lines)
    run: list[tuple[int, str, str, str]] = []

    def flush() -> None:
        if run:
            width = max(len(key) for _, _, key, _ in run)
            for index, indent, key, value in run:
                out[index] = f"{indent}{key.ljust(width)} = {value}"
        run.clear()

    for index, line in enumerate(lines):
        match = _ATTR.match(line)
        if not match or line.lstrip().startswith(("#", "//")):
            flush()
            continue
        indent, key, value = match["indent"], match["key"], match["value"]
        if run and run[-1][1] != indent:
            flush()
        if not _balanced(value):
            flush()
            out[index] = f"{indent}{key} = {value}"
            continue
        run.append((index, indent, key, value))
    flush()
    return "\n".join(out)
