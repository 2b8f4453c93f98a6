"""Offline check of module calls: a root passes what the called module declares.

Why: tfschema checks each directory on its own, so a region root's `module "ha" { ... }` block
was only checked for references. A renamed variable, a missing required input or an output
the root reads but the module no longer has is what `terraform validate` would report first;
without the binary this check reports it, from the module's own `variable` and `output`
blocks (local `source` paths only: the bundle calls no registry module).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from hacompile.verify.tfmodel import did_you_mean, unquote
from hacompile.verify.tfschema import Finding

__all__ = ["check_module_calls"]

_NO_COMMENTS = SerializationOptions(with_comments=False)
META = frozenset({"source", "version", "providers", "count", "for_each", "depends_on"})
_OUTPUT_REF = re.compile(r"\bmodule\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)")


def _docs(directory: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for tf in sorted(directory.glob("*.tf")):
        try:
            with tf.open(encoding="utf-8") as fh:
                yield tf.name, hcl2.load(fh, serialization_options=_NO_COMMENTS)
        except Exception:
            continue


def _interface(directory: Path) -> tuple[dict[str, bool], set[str]]:
    """The module's variables (name -> has a default) and output names."""
    variables: dict[str, bool] = {}
    outputs: set[str] = set()
    for _, doc in _docs(directory):
        for entry in doc.get("variable", []):
            for label, body in entry.items():
                variables[unquote(label)] = "default" in body
        for entry in doc.get("output", []):
            outputs.update(unquote(label) for label in entry)
    return variables, outputs


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_module_calls(root: Path) -> tuple[Finding, ...]:
    """Findings for every `module` block of the root module in `root` whose local source is
    missing, whose arguments the module does not declare or lack a required one, and for
    every `module.NAME.OUTPUT` the module does not output."""
    findings: list[Finding] = []
    docs = list(_docs(root))
    called: dict[str, set[str]] = {}
    for file, doc in docs:
        for entry in doc.get("module", []):
            for label, body in entry.items():
                name = unquote(label)
                where = f"module.{name}"
                source = unquote(str(body.get("source", "")))
                target = (root / source).resolve()
                if not source.startswith(("./", "../")) or not target.is_dir():
                    findings.append(Finding(file, f"source {source!r} is no local module", where))
                    continue
                variables, outputs = _interface(target)
                called[name] = outputs
                passed = {k for k in body if k not in META and k != "__is_block__"}
                for arg in sorted(passed - set(variables)):
                    findings.append(
                        Finding(
                            file,
                            f"{arg}: the module declares no such variable"
                            + did_you_mean(arg, sorted(variables)),
                            where,
                        )
                    )
                for var in sorted(v for v, has_default in variables.items() if not has_default):
                    if var not in passed:
                        findings.append(Finding(file, f"{var}: required input is missing", where))
    for file, doc in docs:
        # `moved` blocks name resources inside the module (module.ha.aws_vpc.main), no outputs
        for text in _strings({k: v for k, v in doc.items() if k != "moved"}):
            for name, output in _OUTPUT_REF.findall(text):
                if name in called and output not in called[name]:
                    findings.append(
                        Finding(
                            file,
                            f"module.{name}.{output}: the module has no such output"
                            + did_you_mean(output, sorted(called[name])),
                            f"module.{name}",
                        )
                    )
    return tuple(sorted(set(findings)))
