"""Deterministic YAML for the generated Ansible variable files (inventory, group_vars): block
style, insertion order, every string quoted by the dumper itself (never by concatenation).

Ansible templates any variable value that contains Jinja markers (``{{``, ``{%``, ``{#``) when it
is used, so such a string in a spec would run as code on the controller (``{{ lookup('pipe',
'id') }}``). The spec's patterns already refuse braces; as a second wall, any string that still
carries a marker is written with Ansible's ``!unsafe`` tag, which makes Ansible treat it as text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import VersionedResolver

JINJA_MARKERS = ("{{", "{%", "{#")
_STR_TAG = "tag:yaml.org,2002:str"


class Unsafe(str):
    """A string Ansible must never template (dumped as ``!unsafe "..."``)."""

    __slots__ = ()


class _Escaped(str):
    """A string with non-printable characters: always double-quoted, where YAML escapes them
    (ruamel would write a NEL raw into a single-quoted scalar, which reads back as a space)."""

    __slots__ = ()


def _represent_unsafe(representer: SafeRepresenter, value: Unsafe) -> ScalarNode:
    return representer.represent_scalar("!unsafe", str(value), style='"')


def _represent_escaped(representer: SafeRepresenter, value: _Escaped) -> ScalarNode:
    return representer.represent_scalar(_STR_TAG, str(value), style='"')


def mark_unsafe(data: Any) -> Any:
    """A copy of `data` with every string (keys included) that carries a Jinja marker, or a
    non-printable character, wrapped for its representer."""
    if isinstance(data, str):
        if any(m in data for m in JINJA_MARKERS):
            return Unsafe(data)
        return data if data.isprintable() else _Escaped(data)
    if isinstance(data, dict):
        return {mark_unsafe(k): mark_unsafe(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mark_unsafe(v) for v in data]
    return data


class _AnsibleResolver(VersionedResolver):
    """YAML 1.2 resolution, except that a string YAML 1.1 would read as something else also
    counts as "not plain". Ansible reads these files with PyYAML, a YAML 1.1 parser: an
    unquoted ``on``, ``no``, ``y``, ``010`` or ``1:20`` (all legal names or values in a spec)
    would reach the roles as true, false, 8 or 4800. ruamel writes YAML 1.2 and would leave
    them unquoted; with this resolver the dumper quotes every such string."""

    _v11 = VersionedResolver(version=(1, 1))

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)
        if kind is ScalarNode and implicit[0] and _is_str(tag):
            older = self._v11.resolve(kind, value, implicit)
            if not _is_str(older):
                return older
        return tag


def _is_str(tag: Any) -> bool:
    return str(getattr(tag, "value", tag)) == _STR_TAG


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = _AnsibleResolver
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold long strings: the files are read by people and diffs
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(Unsafe, _represent_unsafe)
    yaml.representer.add_representer(_Escaped, _represent_escaped)
    return yaml


def dump_yaml(data: Any) -> str:
    marked = mark_unsafe(data)
    try:
        return _fast(marked)
    except _GiveUp:
        return ruamel_dump(marked)


def ruamel_dump(data: Any) -> str:
    """ruamel's own dump: the reference `_fast` must match, and the path for everything else."""
    buffer = io.StringIO()
    _yaml().dump(mark_unsafe(data), buffer)
    return buffer.getvalue()


# --- the fast path --------------------------------------------------------------------------
# ruamel's pure-Python dumper needs ~3 s per MB; a 50-region inventory spent most of `build`
# there. For the closed data model of the variable files (str keys, str/int/bool/None leaves,
# dicts and lists) `_fast` writes exactly what `dump_yaml` would, byte for byte (tests compare
# the two on every blueprint and on generated plans): sorted keys, the same indentation, and a
# scalar is written plain only when it uses a small safe alphabet *and* ruamel's own resolver
# reads it back as that string; a safe-alphabet string that would read back as something else
# (``'1'``, ``'true'``) is single-quoted as ruamel does. Anything else (other characters, long
# keys, floats, `Unsafe`, lists in lists) makes `_fast` give up and ruamel dump the document.

_SAFE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./@+=-]*")


class _GiveUp(Exception):
    pass


def _scalar(value: object, resolve: Callable[[str], str], cache: dict[str, str]) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if type(value) is not str:
        raise _GiveUp
    text = cache.get(value)
    if text is None:
        if value == "":
            text = "''"
        elif len(value) > 1000 or not _SAFE.fullmatch(value):
            raise _GiveUp
        else:
            text = value if resolve(value) == _STR_TAG else f"'{value}'"
        cache[value] = text
    return text


def _fast(data: Any) -> str:
    yaml = _yaml()
    resolver = yaml.resolver

    def resolve(value: str) -> str:
        return _STR_TAG if _is_str(resolver.resolve(ScalarNode, value, (True, False))) else ""

    cache: dict[str, str] = {}
    out: list[str] = []

    def mapping(node: dict[Any, Any], indent: int, first_prefix: str | None = None) -> None:
        for n, key in enumerate(sorted(node)):
            if not isinstance(key, str) or len(key) > 100:
                raise _GiveUp
            lead = first_prefix if (n == 0 and first_prefix is not None) else " " * indent
            head = f"{lead}{_scalar(key, resolve, cache)}:"
            value(node[key], head, indent)

    def sequence(node: list[Any], indent: int) -> None:
        for item in node:
            lead = " " * (indent + 2) + "- "
            if isinstance(item, dict) and item:
                mapping(item, indent + 4, first_prefix=lead)
            elif isinstance(item, list):
                raise _GiveUp
            elif isinstance(item, dict):
                out.append(lead + "{}")
            else:
                out.append(lead + _scalar(item, resolve, cache))

    def value(node: Any, head: str, indent: int) -> None:
        if isinstance(node, dict):
            if not node:
                out.append(head + " {}")
                return
            out.append(head)
            mapping(node, indent + 2)
        elif isinstance(node, list):
            if not node:
                out.append(head + " []")
                return
            out.append(head)
            sequence(node, indent)
        else:
            out.append(f"{head} {_scalar(node, resolve, cache)}")

    if not isinstance(data, dict) or not data:
        raise _GiveUp
    mapping(data, 0)
    return "\n".join(out) + "\n"
