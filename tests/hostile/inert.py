"""Offline proofs that a rendered bundle contains data, not code.

Used by the injection and property tests. Each check parses the output with a real parser and
compares its *structure* with a baseline bundle built from the same spec with benign values:

- HCL: every .tf parses with python-hcl2; every quoted string is decoded the way HCL does
  (backslash escapes, ``$${`` and ``%%{`` for literal ``${`` / ``%{``); the number of live
  ``${...}`` / ``%{...}`` sequences per file must equal the baseline's, so a spec value never
  adds an interpolation or a template directive.
- YAML: every .yml/.yaml loads; in the Ansible variable files any string carrying a Jinja marker
  must be tagged ``!unsafe`` (Ansible then never templates it).
- JSON: every .json loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import hcl2
import yaml

JINJA_MARKERS = ("{{", "{%", "{#")
ANSIBLE_VAR_FILES = ("ansible/inventory/hacompile.yml", "ansible/group_vars/lb.yml")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


class Unsafe(str):
    """What `!unsafe` loads as here: text Ansible will not template."""

    __slots__ = ()


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def decode_hcl_string(token: str) -> tuple[str, int]:
    """(value, live template sequences) of a quoted HCL string token as python-hcl2 8 returns it
    (quotes and escapes still in place)."""
    assert token.startswith('"') and token.endswith('"'), token
    body = token[1:-1]
    out: list[str] = []
    live = 0
    i = 0
    while i < len(body):
        if body.startswith(("$${", "%%{"), i):
            out.append(body[i + 1 : i + 3])
            i += 3
        elif body.startswith(("${", "%{"), i):
            live += 1
            out.append(body[i : i + 2])
            i += 2
        elif body[i] == "\\":
            nxt = body[i + 1]
            if nxt == "u":
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
            elif nxt == "U":
                out.append(chr(int(body[i + 2 : i + 10], 16)))
                i += 10
            else:
                out.append(_ESCAPES[nxt])
                i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out), live


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key == "__comments__":  # python-hcl2 8 reports comments; they are not code
                continue
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _strings(item)


def hcl_literals(text: str) -> tuple[list[str], int]:
    """Decoded values of every quoted string in an HCL file, and its live template count."""
    values: list[str] = []
    live = 0
    for token in _strings(hcl2.loads(text)):
        if token.startswith('"') and token.endswith('"') and len(token) >= 2:
            value, n = decode_hcl_string(token)
            values.append(value)
            live += n
        else:  # an expression: count the templates inside its own string literals
            live += token.count("${") - token.count("$${")
    return values, live


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(key)
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def summary(files: Mapping[str, bytes]) -> dict[str, Any]:
    """Per file, what a parser sees: HCL live-template count, YAML/JSON load success.

    Raises AssertionError when a file does not parse or an Ansible variable carries a Jinja
    marker without `!unsafe`.
    """
    out: dict[str, Any] = {}
    for name, content in sorted(files.items()):
        text = content.decode("utf-8")
        if name.endswith(".tf"):
            try:
                _, live = hcl_literals(text)
            except Exception as exc:
                raise AssertionError(f"{name} does not parse as HCL: {exc}") from exc
            out[name] = ("hcl", live)
        elif name.endswith((".yml", ".yaml")):
            try:
                docs = list(yaml.load_all(text, Loader=_Loader))
            except yaml.YAMLError as exc:
                raise AssertionError(f"{name} does not load as YAML: {exc}") from exc
            if name in ANSIBLE_VAR_FILES:
                for node in _walk(docs):
                    if isinstance(node, str) and not isinstance(node, Unsafe):
                        assert not any(m in node for m in JINJA_MARKERS), (name, node)
            out[name] = ("yaml", len(docs))
        elif name.endswith(".json"):
            try:
                json.loads(text)
            except ValueError as exc:
                raise AssertionError(f"{name} does not load as JSON: {exc}") from exc
            out[name] = ("json",)
    return out


def assert_same_structure(baseline: Mapping[str, bytes], hostile: Mapping[str, bytes]) -> None:
    """Same files, each parsing to the same kind with the same number of live templates."""
    assert sorted(baseline) == sorted(hostile)
    assert summary(baseline) == summary(hostile)
