"""Extract references (`aws_vpc.main.id`, `var.x`, ...) from python-hcl2 8.x expression strings.

Why a scanner and not a full HCL expression parser: python-hcl2 hands expressions back as text
(`"${jsonencode({a = aws_iam_role.r.arn})}"`, templates keep their quotes, heredocs keep their
markers). Terraform only needs us to find traversals rooted at an identifier, so it is enough to
blank out literal string text (keeping `${...}` / `%{...}` interpolations, which hold code),
collect for-expression iteration variables, and walk identifier traversals in what remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Roots that are not declarations we can resolve (or that Terraform scopes itself).
IGNORED_ROOTS = frozenset({"each", "count", "self", "path", "terraform"})
KEYWORDS = frozenset({"for", "in", "if", "else", "endif", "endfor", "true", "false", "null"})
_IDENT = re.compile(r"[A-Za-z_][\w]*(?:-[A-Za-z_]\w*)*")
_FOR_VARS = re.compile(r"\bfor\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b")
_HEREDOC = re.compile(r"<<-?([A-Za-z_]\w*)\n")


@dataclass(frozen=True)
class Step:
    """One traversal step: `.name` (kind "attr"), `[...]` ("index") or `[*]`/`.*` ("splat")."""

    kind: str
    value: str


@dataclass(frozen=True)
class Ref:
    """A traversal rooted at an identifier, e.g. `aws_instance.lb[0].id` -> root + 3 steps."""

    root: str
    steps: tuple[Step, ...]
    text: str


def code_of(value: str) -> str:
    """Return the code parts of one python-hcl2 value string, literal text blanked out."""
    if value.startswith("${") and value.endswith("}"):
        return _scan(value[2:-1], 0, in_string=False)[0]
    if value.startswith('"<<') and value.endswith('"'):
        body = value[1:-1]
        first_nl = body.find("\n")
        last_nl = body.rfind("\n")
        if 0 <= first_nl < last_nl:
            return _scan(body[first_nl + 1 : last_nl], 0, in_string=True, heredoc=True)[0]
    if value.startswith('"'):
        return _scan(value, 0, in_string=False)[0]
    return ""  # a bare keyword such as `string` in a variable type or an iterator name


def _scan(
    text: str, pos: int, *, in_string: bool, heredoc: bool = False, stop_at_brace: bool = False
) -> tuple[str, int]:
    """Copy code, blank string text; returns (code, position after the construct)."""
    out: list[str] = []
    depth = 0
    while pos < len(text):
        ch = text[pos]
        two = text[pos : pos + 2]
        if in_string:
            if ch == "\\" and not heredoc:
                out.append("  ")
                pos += 2
            elif text.startswith(("$${", "%%{"), pos):
                out.append("   ")
                pos += 3
            elif two in ("${", "%{"):
                code, pos = _scan(text, pos + 2, in_string=False, stop_at_brace=True)
                out.append(f" ({code}) ")
            elif ch == '"' and not heredoc:
                return "".join(out), pos + 1
            else:
                out.append(" ")
                pos += 1
            continue
        if ch == '"':
            code, pos = _scan(text, pos + 1, in_string=True)
            out.append(f" {code} ")
            continue
        if two == "<<" and (m := _HEREDOC.match(text, pos)):
            end = re.compile(rf"\n\s*{re.escape(m.group(1))}\b").search(text, m.end() - 1)
            stop = end.start() if end else len(text)
            code, _ = _scan(text[m.end() : stop], 0, in_string=True, heredoc=True)
            out.append(f" {code} ")
            pos = end.end() if end else len(text)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            if stop_at_brace and depth == 0:
                return "".join(out), pos + 1
            depth -= 1
        out.append(ch)
        pos += 1
    return "".join(out), pos


def for_variables(code: str) -> frozenset[str]:
    """Names bound by `for k, v in ...` (expressions and `%{ for }` directives) in this code."""
    names: set[str] = set()
    for m in _FOR_VARS.finditer(code):
        names.update(n for n in m.groups() if n)
    return frozenset(names)


def extract_refs(value: str, extra_locals: frozenset[str] = frozenset()) -> list[Ref]:
    """All resolvable traversals in one value string (for-variables and scoped roots skipped)."""
    code = code_of(value)
    return _refs_in(code, IGNORED_ROOTS | KEYWORDS | for_variables(code) | extra_locals)


def _refs_in(code: str, skip: frozenset[str]) -> list[Ref]:
    refs: list[Ref] = []
    pos = 0
    while m := _IDENT.search(code, pos):
        start, pos = m.start(), m.end()
        if start > 0 and (code[start - 1] in "._" or code[start - 1].isalnum()):
            continue
        steps, pos = _traversal(code, pos)
        for step in steps:  # index expressions hold references of their own
            if step.kind == "index":
                refs.extend(_refs_in(step.value, skip))
        root = m.group(0)
        if root in skip or not steps or code[pos:].lstrip().startswith("("):
            continue
        refs.append(Ref(root, tuple(steps), code[start:pos]))
    return refs


def _traversal(code: str, pos: int) -> tuple[list[Step], int]:
    steps: list[Step] = []
    while pos < len(code):
        if code[pos] == "." and pos + 1 < len(code):
            if code[pos + 1] == "*":
                steps.append(Step("splat", "*"))
                pos += 2
                continue
            m = _IDENT.match(code, pos + 1) or re.compile(r"\d+").match(code, pos + 1)
            if not m:
                break
            kind = "index" if m.group(0).isdigit() else "attr"
            steps.append(Step(kind, m.group(0)))
            pos = m.end()
        elif code[pos] == "[":
            depth, end = 0, pos
            while end < len(code):
                depth += {"[": 1, "]": -1}.get(code[end], 0)
                if depth == 0:
                    break
                end += 1
            inner = code[pos + 1 : end].strip()
            steps.append(Step("splat" if inner == "*" else "index", inner))
            pos = end + 1
        else:
            break
    return steps, pos
