"""Optional features in the roles' verbatim files: present only in the bundles that use them.

Why: the roles are copied into every bundle byte for byte (Ansible renders their templates at
deploy time), so a line an optional section adds to a shared file (haproxy.cfg.j2, the notify
hook) would change every bundle, including those of specs that never asked for the feature.
Instead such lines carry a marker and this module keeps or drops them per bundle; a bundle
without the feature holds the file exactly as it was, and no bundle holds a marker.

Markers (FEATURE is `metrics`, `logs` or `tls`, the spec sections of the same names, or `vips`,
some region's `vips`):

    # hacompile-if: FEATURE       a block of lines kept only with FEATURE
    ...
    # hacompile-end
    LINE  # hacompile-only(FEATURE)          LINE only with FEATURE
    LINE  # hacompile-else(FEATURE): BASE    LINE with FEATURE, BASE (verbatim) without it

The source file is the variant with every feature on, so it stays a working script: the tests
run it as it is.
"""

from __future__ import annotations

import re

from hacompile.plan.model import Plan

__all__ = ["MARKER", "apply", "enabled"]

MARKER = re.compile(rb"# hacompile-(if: |end$|only\(|else\()", re.MULTILINE)
_BLOCK = re.compile(r"^\s*# hacompile-if: (\w+)$")
_END = re.compile(r"^\s*# hacompile-end$")
_LINE = re.compile(r"^(.*?)\s+# hacompile-(only|else)\((\w+)\)(?:: (.*))?$")


def enabled(plan: Plan) -> frozenset[str]:
    """The optional features `plan` uses."""
    obs = plan.observability
    on = {
        "metrics": bool(obs.metrics_port),
        "logs": bool(obs.request_id_header),
        "tls": bool(plan.tls.files),
        "vips": any(region.vips for region in plan.regions),
    }
    return frozenset(name for name, used in on.items() if used)


def apply(content: bytes, features: frozenset[str], name: str) -> bytes:
    """`content` as the bundle holds it with `features` on; `name` only for error messages."""
    if not MARKER.search(content):
        return content
    out: list[str] = []
    keep: list[bool] = []
    for number, line in enumerate(content.decode("utf-8").split("\n"), start=1):
        if m := _BLOCK.match(line):
            keep.append(_known(m[1], name, number) in features)
            continue
        if _END.match(line):
            if not keep:
                raise ValueError(f"{name}:{number}: hacompile-end without hacompile-if")
            keep.pop()
            continue
        if not all(keep):
            continue
        if m := _LINE.match(line):
            on = _known(m[3], name, number) in features
            if m[2] == "only" and not on:
                continue
            line = m[1] if on else (m[4] or "")
        out.append(line)
    if keep:
        raise ValueError(f"{name}: hacompile-if without hacompile-end")
    return "\n".join(out).encode("utf-8")


def _known(feature: str, name: str, number: int) -> str:
    if feature not in ("metrics", "logs", "tls", "vips"):
        raise ValueError(f"{name}:{number}: unknown feature {feature!r} in a hacompile marker")
    return feature
