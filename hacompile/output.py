"""Output helpers shared by every command: colour for people, plain text for pipes, JSON for
programs. They only build strings; `hacompile.cli` decides what to print where.

- Colour only when the stream is a terminal, ``NO_COLOR`` is unset or empty (no-color.org) and
  ``TERM`` is not ``dumb``; piped output is plain text that greps and diffs well.
- ``--json``: one JSON document on stdout per command, ``{"command", "ok", "diagnostics", ...}``;
  diagnostics carry file, line, column, severity, path and message. Exit codes do not change.
- ``--quiet``: only errors (and what the command exists to print, like a diff or a schema).
Use the `JsonOption` and `QuietOption` annotations so every command spells the flags alike.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Annotated, Any, TextIO

import typer

from hacompile.errors import Diagnostic, Severity
from hacompile.record import Record

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one machine-readable JSON document on stdout.")
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only errors (and the command's own output).")
]


class Style(Record):
    color: bool

    @classmethod
    def detect(cls, stream: TextIO) -> Style:
        try:
            tty = stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        wanted = not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        return cls(tty and wanted)

    def paint(
        self, text: str, fg: str | None = None, *, bold: bool = False, dim: bool = False
    ) -> str:
        if not self.color:
            return text
        return typer.style(text, fg=fg, bold=bold, dim=dim)


class Mode(Record):
    """How a command reports: JSON or text, quiet or not, and with which styles."""

    json: bool
    quiet: bool
    out: Style
    err: Style

    @classmethod
    def detect(cls, json_: bool, quiet: bool) -> Mode:
        stdout = typer.get_text_stream("stdout")
        stderr = typer.get_text_stream("stderr")
        return cls(json_, quiet, Style.detect(stdout), Style.detect(stderr))


_SEVERITY = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def diagnostic(d: Diagnostic, style: Style) -> str:
    """``FILE:LINE:COL: error: path: message``, the severity coloured on a terminal."""
    where = style.paint(f"{d.file}:{d.line}:{d.column}:", bold=True)
    severity = style.paint(f"{d.severity.value}:", _SEVERITY[d.severity], bold=True)
    field = f"{d.path}: " if d.path else ""
    return f"{where} {severity} {field}{d.message}"


def diagnostic_dict(d: Diagnostic) -> dict[str, Any]:
    return {
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "severity": d.severity.value,
        "path": d.path,
        "message": d.message,
    }


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def document(command: str, ok: bool, diagnostics: Sequence[Diagnostic] = (), **result: Any) -> str:
    """The --json document of one command run."""
    import json  # only under --json: ~1 ms of start-up that `validate` and `build` need not pay

    body: dict[str, Any] = {
        "command": command,
        "ok": ok,
        "diagnostics": [diagnostic_dict(d) for d in diagnostics],
    }
    body.update(result)
    return json.dumps(body, indent=2, sort_keys=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], style: Style) -> str:
    """Columns aligned with spaces; on a terminal the header is bold and underlined."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join(("─" if style.color else "-") * w for w in widths)
    out = [style.paint(line(headers), bold=True), style.paint(rule, dim=True)]
    out += [line(row) for row in rows]
    return "\n".join(out)
