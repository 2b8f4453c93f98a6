"""Stage 1, load: read ha.yaml into plain Python data plus a map of where every value stood.

ruamel.yaml gives line/column for every key and item; we copy them into a `Positions` map keyed
by the data path, then hand plain dicts and lists to the validator. Hostile files are refused
here, before anything expensive happens: oversized, non-UTF-8, binary, tagged (``!!python/...``)
or alias-bomb documents all become located diagnostics, never exceptions or hangs.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import RoundTripScanner, ScannerError

from hacompile.errors import Diagnostic, Loc, Severity, SpecError
from hacompile.record import Record

MAX_BYTES = 1_000_000  # a real spec is a few KB; 1 MB leaves room for 50 regions and comments
# Values in a document (keys included), counted while parsing (ruamel spends ~30 us of CPU on
# each, so 200,000 took 9 s) and again with aliases expanded (the alias-bomb guard). The largest
# valid spec, every list at its bound and every optional key set, has about 31,500; 40,000 keeps
# the refusal of a larger document near 1.5 s of CPU.
MAX_NODES = 40_000
MAX_DEPTH = 64
# No list or mapping in a spec needs more entries than this (the longest, regions and
# regions[].backends, are capped at 64 by the model): a longer one is refused at its first extra
# item while it is being parsed, so a 10,000-item list costs milliseconds, not the seconds
# ruamel needs to parse it all, and lists nested in lists stay small.
MAX_ITEMS = 64
# Integers as every YAML reader reads them alike: YAML 1.1 (PyYAML, Ansible) reads 010 as 8 where
# 1.2 reads 10, and ruamel still accepts the 1.1-only 0b101 and 8_0. Refused like `yes`/`no`.
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
# Python refuses to turn longer digit strings into an int (CVE-2020-10735); ruamel then raises a
# bare ValueError, which we locate ourselves (a pattern: compiled only when that happens).
_LONG_NUMBER = rf"[-+]?[0-9][0-9_]{{{sys.get_int_max_str_digits() - 1},}}"
# A spec is plain data: explicit tags (!!python/object, !!binary, !custom ...) are refused.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
)


class Positions(Record):
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


class Loaded(Record):
    path: Path
    data: Any
    positions: Positions


def _fail(path: Path, message: str, line: int = 1, column: int = 1) -> SpecError:
    return SpecError((Diagnostic(line, column, Severity.ERROR, "", message, str(path)),))


def read_text(path: Path) -> str:
    """Read the spec as UTF-8 text, turning every OS-level failure into a located error.

    The file is opened non-blocking and checked with fstat on the open descriptor, so a FIFO or
    a device (``/dev/zero``) is refused instead of blocking or reading forever, and the read
    is capped even if the file grows after the check.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise _fail(path, "is a directory, not a spec file")
            if not stat.S_ISREG(info.st_mode):
                raise _fail(path, "is not a regular file (a pipe, socket or device)")
            if info.st_size > MAX_BYTES:
                raise _fail(
                    path, f"file is {info.st_size} bytes; a spec may be at most {MAX_BYTES} bytes"
                )
            with os.fdopen(os.dup(fd), "rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except OSError as exc:  # symlink loops, name too long, I/O errors
        raise _fail(path, f"cannot read: {os.strerror(exc.errno or 0) or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _fail(path, f"file grew past {MAX_BYTES} bytes while being read")
    if b"\x00" in raw:
        nul = raw.index(b"\x00")
        line = raw.count(b"\n", 0, nul) + 1
        raise _fail(
            path,
            "contains NUL bytes: this looks like a binary file, not YAML",
            line,
            nul - (raw.rfind(b"\n", 0, nul) + 1) + 1,
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(path, "is not valid UTF-8", line, col) from None


class _Scanner(RoundTripScanner):
    """Refuses flow nesting (``[[[[...``) deeper than MAX_DEPTH as it scans: ruamel's scanner
    is quadratic in flow depth, so 5,000 brackets took seconds before the composer's recursion
    limit stopped them, and the error could not say where."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        if len(self.flow_context) >= MAX_DEPTH:
            raise ScannerError(
                None,
                None,
                f"flow collections nest deeper than {MAX_DEPTH} levels",
                self.reader.get_mark(),
            )
        super().fetch_flow_collection_start(TokenClass, to_push)


class _Refused(Exception):
    """A value refused while parsing, with its 0-based mark: raised through ruamel's load."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.where = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class _Composer(Composer):
    """Counts entries as they are composed and stops at the first past MAX_ITEMS, and at the
    first value past MAX_NODES in the whole document."""

    composed = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.composed += 1
        if self.composed > MAX_NODES:
            raise _Refused(
                f"document has more than {MAX_NODES} values: no spec needs that many",
                self.parser.peek_event().start_mark,
            )
        if isinstance(parent, SequenceNode) and isinstance(index, int) and index >= MAX_ITEMS:
            raise _Refused(
                f"a list of more than {MAX_ITEMS} items: no list in a spec may be that long",
                self.parser.peek_event().start_mark,
            )
        if isinstance(parent, MappingNode) and index is None:  # a key
            event = self.parser.peek_event()
            if len(parent.value) >= MAX_ITEMS:
                raise _Refused(
                    f"a mapping of more than {MAX_ITEMS} keys: no mapping in a spec may be that "
                    "large",
                    event.start_mark,
                )
            # A complex key (`? {a: [1]}`) is refused here: ruamel hashes it while building
            # the mapping, and a list inside one is unhashable (a TypeError, not a diagnostic).
            target = self.anchors.get(event.anchor) if isinstance(event, AliasEvent) else None
            if isinstance(event, CollectionStartEvent) or isinstance(
                target, (MappingNode, SequenceNode)
            ):
                raise _Refused(
                    "mapping keys must be strings, got a list or mapping", event.start_mark
                )
        return super().compose_node(parent, index)


def _int_form(text: str) -> str:
    """What makes an integer scalar ambiguous, in words; "" for plain decimal."""
    digits = text.lstrip("+-")
    if _PLAIN_INT.fullmatch(text):
        return ""
    if "_" in text:
        return "has an underscore (a YAML 1.1 digit separator that YAML 1.2 does not have)"
    kind = {
        "0o": "is octal (YAML 1.2 reads 0o10 as 8, YAML 1.1 readers as text)",
        "0b": "is binary (a YAML 1.1 form that YAML 1.2 does not have)",
        "0x": "is hexadecimal (no number in a spec is written that way; one form for all "
        "keeps reviews simple)",
    }.get(digits[:2].lower())
    if kind:
        return kind
    return (
        f"has a leading zero (YAML 1.1 readers such as PyYAML and Ansible read it as "
        f"{f'octal {int(digits, 8)}' if set(digits) <= set('01234567') else 'text'}, "
        f"YAML 1.2 as decimal {int(digits)})"
    )


class _Constructor(RoundTripConstructor):
    """Refuses integer and float forms that YAML readers read differently, at the scalar."""

    def _int(self, node: ScalarNode) -> Any:
        why = _int_form(str(node.value))
        if why:
            raise _Refused(
                f"the number {node.value} {why}: write it in plain decimal, or quote "
                "it if you mean text",
                node.start_mark,
            )
        return self.construct_yaml_int(node)

    def _float(self, node: ScalarNode) -> Any:
        if "_" in str(node.value):
            raise _Refused(
                f"the number {node.value} has an underscore (a YAML 1.1 digit "
                "separator that YAML 1.2 does not have): write it without",
                node.start_mark,
            )
        return self.construct_yaml_float(node)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor._int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor._float)


def load(path: Path) -> Loaded:
    """Parse one spec file; raise `SpecError` with a located diagnostic on any YAML problem."""
    if not path.name.isprintable():
        # The name is copied into comments of the generated HCL and YAML, where a newline (or
        # a Unicode line separator) would end the comment and start code.
        raise _fail(
            path,
            "the file name contains a newline or another non-printable character; rename the file",
        )
    text = read_text(path)
    yaml = YAML(typ="rt", pure=True)
    yaml.Scanner = _Scanner
    yaml.Composer = _Composer
    yaml.Constructor = _Constructor
    yaml.allow_duplicate_keys = False
    try:
        doc = yaml.load(text)
    except _Refused as exc:
        raise _fail(path, exc.message, *exc.where) from None
    except ReaderError as exc:  # a control character: ruamel reports a character offset
        line, col = _line_col(text, exc.position)
        raise _fail(
            path, f"character U+{exc.character:04X} is not allowed in YAML", line, col
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if exc.context and problem.startswith("but "):  # "expected X" + "but found Y"
            problem = f"{' '.join(str(exc.context).split())}, {problem}"
        if "duplicate key" in str(exc):
            problem = "duplicate key " + _quoted_key(str(exc))
        raise _fail(path, f"YAML syntax: {problem}", line, col) from None
    except YAMLError as exc:
        raise _fail(path, f"YAML syntax: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise _fail(path, f"document nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # ruamel's int(): a number longer than Python converts
        match = re.search(_LONG_NUMBER, text)
        line, col = _line_col(text, match.start()) if match else (1, 1)
        raise _fail(
            path, f"number too long: at most {sys.get_int_max_str_digits()} digits", line, col
        ) from None
    if doc is None:
        raise _fail(path, "the file is empty: a spec needs at least `version`, `name`, `regions`")
    keys: dict[Loc, tuple[int, int]] = {}
    values: dict[Loc, tuple[int, int]] = {(): (1, 1)}
    budget = [MAX_NODES]
    data = _plain(path, doc, (), keys, values, budget)
    return Loaded(path, data, Positions(keys, values))


# What ruamel builds for YAML's non-JSON scalars and collections, in the user's words.
_KINDS = {
    "bytes": "binary data (!!binary)",
    "date": "a date (quote it if you mean the text)",
    "datetime": "a timestamp (quote it if you mean the text)",
    "TimeStamp": "a timestamp (quote it if you mean the text)",
    "CommentedSet": "a set (!!set)",
    "CommentedOrderedMap": "an ordered map (!!omap)",
}


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset into `text`."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _quoted_key(message: str) -> str:
    marker = 'found duplicate key "'
    start = message.find(marker)
    if start < 0:
        return ""
    end = message.find('"', start + len(marker))
    return f"`{message[start + len(marker) : end]}`"


def _key_position(
    node: CommentedMap, key: Any, where: tuple[int, int], *, value: bool
) -> tuple[int, int]:
    """Where a key (or its value) stands; a key merged in by ``<<: *anchor`` has no position of
    its own in this mapping, so it is reported at the mapping that merges it."""
    try:
        found = node.lc.value(key) if value else node.lc.key(key)
    except (KeyError, TypeError):
        found = None
    if not found:
        return where
    return (found[0] + 1, found[1] + 1)


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
            child = (*loc, key if isinstance(key, str | int) else str(key))
            keys[child] = _key_position(node, key, where, value=False)
            values[child] = _key_position(node, key, where, value=True)
            if not isinstance(key, str):
                raise _fail(path, f"mapping keys must be strings, got {key!r}", *keys[child])
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
    kind = _KINDS.get(type(node).__name__, f"a value of type {type(node).__name__}")
    raise _fail(path, f"{kind} is not allowed in a spec", *where)
