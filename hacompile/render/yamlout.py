"""Deterministic YAML for the generated Ansible variable files (inventory, group_vars): block
style, insertion order, every string quoted by the dumper itself (never by concatenation).

Ansible templates any variable value that contains Jinja markers (``{{``, ``{%``, ``{#``) when it
is used, so such a string in a spec would run as code on the controller (``{{ lookup('pipe',
'id') }}``). The spec's patterns already refuse braces; as a second wall, any string that still
carries a marker is written with Ansible's ``!unsafe`` tag, which makes Ansible treat it as text.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter

JINJA_MARKERS = ("{{", "{%", "{#")


class Unsafe(str):
    """A string Ansible must never template (dumped as ``!unsafe "..."``)."""

    __slots__ = ()


def _represent_unsafe(representer: SafeRepresenter, value: Unsafe) -> ScalarNode:
    return representer.represent_scalar("!unsafe", str(value), style='"')


def mark_unsafe(data: Any) -> Any:
    """A copy of `data` with every string (keys included) that carries a Jinja marker wrapped."""
    if isinstance(data, str):
        return Unsafe(data) if any(m in data for m in JINJA_MARKERS) else data
    if isinstance(data, dict):
        return {mark_unsafe(k): mark_unsafe(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mark_unsafe(v) for v in data]
    return data


def dump_yaml(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold long strings: the files are read by people and diffs
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(Unsafe, _represent_unsafe)
    buffer = io.StringIO()
    yaml.dump(mark_unsafe(data), buffer)
    return buffer.getvalue()
