"""Diagnostics: the one currency in which every stage reports a problem with the spec.

Stages never print or exit. They return or raise `Diagnostic` values, and only the CLI turns
them into text and an exit status. A diagnostic carries the spec path (``regions[0].vpc_cidr``)
and, once located, the file position, so every message can name FILE:LINE:COL.
"""

from __future__ import annotations

from enum import StrEnum

from hacompile.record import Record

Loc = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class _Fields(Record):
    """Diagnostic's fields, in the order diagnostics sort by (a record cannot have its own
    ``__new__``, so `Diagnostic` adds it in a subclass)."""

    line: int
    column: int
    severity: Severity
    path: str
    message: str
    file: str = ""


class Diagnostic(_Fields):
    """One problem, located in the spec file as precisely as the loader allows."""

    __slots__ = ()

    def __new__(
        cls, line: int, column: int, severity: Severity, path: str, message: str, file: str = ""
    ) -> Diagnostic:
        """Keep every diagnostic one line of plain text, whatever the spec contained: a key or a
        file name with a newline, an escape sequence or a bidi override must not forge a second
        diagnostic or repaint the terminal, so non-printable characters become escapes here,
        once, for every renderer."""
        return super().__new__(
            cls, line, column, severity, _inert(path), _inert(message), _inert(file)
        )

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        field = f"{self.path}: " if self.path else ""
        return f"{where}: {self.severity.value}: {field}{self.message}"

    def in_file(self, file: str) -> Diagnostic:
        return Diagnostic(self.line, self.column, self.severity, self.path, self.message, file)


def _inert(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def format_loc(loc: Loc) -> str:
    """Render ``("regions", 0, "zones")`` as ``regions[0].zones``, the way users write paths."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class SpecError(Exception):
    """Raised with every error found, so users fix them all in one round."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(sorted(diagnostics))
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)
