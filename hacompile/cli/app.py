"""The command line: the only place that prints or exits.

Exit status: 0 success, 1 a command's own "no" (e.g. a stale bundle under --check), 2 a spec
or usage error. Spec errors are printed one per line as FILE:LINE:COL: error: path: message.
"""

import sys
from pathlib import Path
from typing import Annotated

import typer

from hacompile import __version__, output
from hacompile.errors import Diagnostic, Severity, SpecError
from hacompile.output import Mode

app = typer.Typer(
    name="hacompile",
    help="Compile one ha.yaml into a Terraform + Ansible bundle for active-active HAProxy on AWS.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain click help and usage errors: rich (with markdown-it and pygments) would triple the
    # start-up time of every command; see docs/performance.md.
    rich_markup_mode=None,
)

# readable=False: the loader, not click, reports an unreadable spec, as FILE:LINE:COL like every
# other spec error (tests/hostile).
SpecArg = Annotated[Path, typer.Argument(help="The spec file (ha.yaml).", show_default=False,
                                         readable=False)]


def _print_diagnostics(diagnostics: tuple[Diagnostic, ...]) -> None:
    for diag in diagnostics:
        typer.echo(diag.render(), err=True)


def _fail(exc: SpecError) -> typer.Exit:
    _print_diagnostics(exc.diagnostics)
    count = len(exc.errors)
    typer.echo(f"{count} error{'s' if count != 1 else ''}", err=True)
    return typer.Exit(2)


def _diagnostics(mode: Mode, diagnostics: tuple[Diagnostic, ...]) -> None:
    """Diagnostics on stderr, warnings hidden by --quiet; --json puts them in the document."""
    if mode.json:
        return
    for diag in diagnostics:
        if not (mode.quiet and diag.severity is not Severity.ERROR):
            typer.echo(output.diagnostic(diag, mode.err), err=True)


def _spec_failed(mode: Mode, command: str, exc: SpecError) -> typer.Exit:
    if mode.json:
        typer.echo(output.document(command, False, exc.diagnostics))
    else:
        _diagnostics(mode, exc.diagnostics)
        typer.echo(output.count(len(exc.errors), "error"), err=True)
    return typer.Exit(2)


def _say(mode: Mode, text: str) -> None:
    """Chatter for people: not under --json or --quiet."""
    if not (mode.json or mode.quiet):
        typer.echo(text)


def _write_failed(mode: Mode, command: str, warnings: tuple[Diagnostic, ...],
                  exc: Exception) -> typer.Exit:
    from hacompile.write import Conflict, WriteError

    where = exc.where if isinstance(exc, WriteError) else ""  # FILE or FILE:LINE:COL
    if mode.json:
        conflicts = [{"path": c.path, "action": c.action, "reason": c.conflict}
                     for c in exc.conflicts] if isinstance(exc, Conflict) else []
        located = {"where": where} if where else {}
        typer.echo(output.document(command, False, warnings, error=str(exc),
                                   conflicts=conflicts, **located))
    else:  # a located error reads as every other one: WHERE: error: MESSAGE
        prefix = f"{where}: " if where else ""
        typer.echo(f"{prefix}{mode.err.paint('error:', 'red', bold=True)} {exc}", err=True)
    return typer.Exit(2 if not isinstance(exc, Conflict) else 1)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hacompile {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """hacompile: one ha.yaml in, a Terraform + Ansible bundle out."""


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
