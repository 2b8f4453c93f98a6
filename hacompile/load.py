"""Stage 1, load: read ha.yaml into plain Python data plus a map of where every value stood.

ruamel.yaml gives line/column for every key and item; we copy them into a `Positions` map keyed
by the data path, then hand plain dicts and lists to the validator. Hostile files are refused
here, before anything expensive happens: oversized, non-UTF-8, binary, tagged (``!!python/...``)
or alias-bomb documents all become located diagnostics, never exceptions or hangs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from hacompile.errors import Diagnostic, Loc, Severity, SpecError

MAX_BYTES = 1_000_000  # a real spec is a few KB; 1 MB leaves room for 50 regions and comments
MAX_NODES = 200_000  # counted with aliases expanded: the alias-bomb guard
MAX_DEPTH = 64
# A spec is plain data: explicit tags (!!python/object, !!binary, !custom ...) are refused.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
)


@dataclass(frozen=True)
class Positions:
    """1-based (line, column) of every mapping key and every value, by data path."""

    keys: dict[Loc, tuple[int, int]]
    values: dict[Loc, tuple[int, int]]

    def locate(self, loc: Loc, *, at_key: bool = True) -> tuple[int, int]:
        """Best position for a path: the key itself, else the nearest enclosing value."""
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            if at_key and prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return (1, 1)


@dataclass(frozen=True)
class Loaded:
    path: Path
    data: Any
    positions: Positions


def _fail(path: Path, message: str, line: int = 1, column: int = 1) -> SpecError:
    return SpecError((Diagnostic(line, column, Severity.ERROR, "", message, str(path)),))


def read_text(path: Path) -> str:
    """Read the spec as UTF-8 text, turning every OS-level failure into a located error."""
    try:
        if path.is_dir():
            raise _fail(path, "is a directory, not a spec file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _fail(path, f"file is {size} bytes; a spec may be at most {MAX_BYTES} bytes")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except OSError as exc:  # symlink loops, name too long, I/O errors
        raise _fail(path, f"cannot read: {os.strerror(exc.errno or 0) or exc}") from None
    if b"\x00" in raw:
        raise _fail(path, "contains NUL bytes: this looks like a binary file, not YAML")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(path, "is not valid UTF-8", line, col) from None


def load(path: Path) -> Loaded:
    """Parse one spec file; raise `SpecError` with a located diagnostic on any YAML problem."""
    text = read_text(path)
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if "duplicate key" in str(exc):
            problem = "duplicate key " + _quoted_key(str(exc))
        raise _fail(path, f"YAML syntax: {problem}", line, col) from None
    except YAMLError as exc:
        raise _fail(path, f"YAML syntax: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise _fail(path, f"document nests deeper than {MAX_DEPTH} levels") from None
    if doc is None:
        raise _fail(path, "the file is empty: a spec needs at least `version`, `name`, `regions`")
    keys: dict[Loc, tuple[int, int]] = {}
    values: dict[Loc, tuple[int, int]] = {(): (1, 1)}
    budget = [MAX_NODES]
    data = _plain(path, doc, (), keys, values, budget)
    return Loaded(path, data, Positions(keys, values))


def _quoted_key(message: str) -> str:
    marker = 'found duplicate key "'
    start = message.find(marker)
    if start < 0:
        return ""
    end = message.find('"', start + len(marker))
    return f"`{message[start + len(marker):end]}`"


def _plain(
    path: Path,
    node: Any,
    loc: Loc,
    keys: dict[Loc, tuple[int, int]],
    values: dict[Loc, tuple[int, int]],
    budget: list[int],
) -> Any:
    """Copy ruamel nodes into plain data, recording positions and refusing hostile shapes."""
    budget[0] -= 1
    where = values.get(loc, (1, 1))
    if budget[0] < 0:
        raise _fail(path, f"document expands to more than {MAX_NODES} values (alias bomb?)", *where)
    if len(loc) > MAX_DEPTH:
        raise _fail(path, f"document nests deeper than {MAX_DEPTH} levels", *where)
    tag = getattr(node, "tag", None)
    tag_value = getattr(tag, "value", None) if tag is not None else None
    if isinstance(tag_value, str) and tag_value not in _PLAIN_TAGS:
        shown = tag_value.replace("tag:yaml.org,2002:", "!!")
        raise _fail(path, f"YAML tag {shown} is not allowed in a spec", *where)
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key in node:
            kline, kcol = node.lc.key(key)
            vline, vcol = node.lc.value(key)
            child = (*loc, key if isinstance(key, str | int) else str(key))
            keys[child] = (kline + 1, kcol + 1)
            values[child] = (vline + 1, vcol + 1)
            if not isinstance(key, str):
                raise _fail(path, f"mapping keys must be strings, got {key!r}", kline + 1, kcol + 1)
            out[key] = _plain(path, node[key], child, keys, values, budget)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, item in enumerate(node):
            line, col = node.lc.item(index)
            child = (*loc, index)
            values[child] = (line + 1, col + 1)
            keys.setdefault(child, (line + 1, col + 1))
            items.append(_plain(path, item, child, keys, values, budget))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if node is None:
        return None
    raise _fail(path, f"unsupported YAML value of type {type(node).__name__}", *where)
