"""The command line: the only place that prints or exits.

Exit status: 0 success, 1 a command's own "no" (e.g. a stale bundle under --check), 2 a spec
or usage error. Spec errors are printed one per line as FILE:LINE:COL: error: path: message.
"""

import copy
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec

import typer
from typer.main import get_command_name

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
SpecArg = Annotated[
    Path, typer.Argument(help="The spec file (ha.yaml).", show_default=False, readable=False)
]


def show_diagnostics(mode: Mode, diagnostics: tuple[Diagnostic, ...]) -> None:
    """Diagnostics on stderr, warnings hidden by --quiet; --json puts them in the document."""
    if mode.json:
        return
    for diag in diagnostics:
        if not (mode.quiet and diag.severity is not Severity.ERROR):
            typer.echo(output.diagnostic(diag, mode.err), err=True)


def say(mode: Mode, text: str) -> None:
    """Chatter for people: not under --json or --quiet."""
    if not (mode.json or mode.quiet):
        typer.echo(text)


class Failure(Exception):
    """A command's "no" other than a spec error, raised for `reports_errors` to print.

    `where` (FILE or FILE:LINE:COL) prefixes the message as in every located error;
    `warnings` are the diagnostics found before the failure; `fields` go into the --json
    document beside ``error``."""

    def __init__(
        self,
        message: str,
        *,
        code: int = 2,
        where: str = "",
        warnings: tuple[Diagnostic, ...] = (),
        **fields: Any,
    ) -> None:
        super().__init__(message)
        self.code, self.where, self.warnings, self.fields = code, where, warnings, fields


def write_failure(warnings: tuple[Diagnostic, ...], exc: Exception) -> Failure:
    """A failed write (or preview) of the output directory; a conflict exits 1, not 2."""
    from hacompile.write import Conflict, WriteError

    where = exc.where if isinstance(exc, WriteError) else ""  # FILE or FILE:LINE:COL
    conflicts = (
        [{"path": c.path, "action": c.action, "reason": c.conflict} for c in exc.conflicts]
        if isinstance(exc, Conflict)
        else []
    )
    return Failure(
        str(exc),
        code=1 if isinstance(exc, Conflict) else 2,
        where=where,
        warnings=warnings,
        conflicts=conflicts,
    )


P = ParamSpec("P")


def reports_errors(command: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """The CLI's one error path (rendercv's decorator): a command raises `SpecError` or
    `Failure`, and this prints it the way the command's --json and --quiet ask, then exits
    (2 for a spec or usage error, or the failure's own code)."""

    def decorate(func: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                func(*args, **kwargs)
            except SpecError as exc:
                mode = Mode.detect(bool(kwargs.get("json_")), bool(kwargs.get("quiet")))
                if mode.json:
                    typer.echo(output.document(command, False, exc.diagnostics))
                else:
                    show_diagnostics(mode, exc.diagnostics)
                    typer.echo(output.count(len(exc.errors), "error"), err=True)
                raise typer.Exit(2) from None
            except Failure as exc:
                mode = Mode.detect(bool(kwargs.get("json_")), bool(kwargs.get("quiet")))
                if mode.json:
                    located = {"where": exc.where} if exc.where else {}
                    typer.echo(
                        output.document(
                            command, False, exc.warnings, error=str(exc), **exc.fields, **located
                        )
                    )
                else:  # a located error reads as every other one: WHERE: error: MESSAGE
                    prefix = f"{exc.where}: " if exc.where else ""
                    typer.echo(
                        f"{prefix}{mode.err.paint('error:', 'red', bold=True)} {exc}", err=True
                    )
                raise typer.Exit(exc.code) from None

        return wrapper

    return decorate


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hacompile {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """hacompile: one ha.yaml in, a Terraform + Ansible bundle out."""


def only(args: list[str]) -> typer.Typer:
    """The application as click needs it for these arguments: with only the command they
    name, when the first one names a command exactly, else with every command.

    typer builds the click object of every registered command (its parameters, from the
    function's signature) before it looks at the arguments: ~2 ms of every run for the
    eight commands, of which a run needs one. With one command, the group still carries
    the callback (--version) and the same settings, so `hacompile CMD ...` parses, helps
    and fails exactly as it does in the full application (tests/test_cli_dispatch.py);
    `hacompile`, `hacompile --help`, a misspelt command and shell completion (no
    arguments) get the full application."""
    wanted = args[0] if args else ""
    for info in app.registered_commands:
        callback = info.callback
        name = info.name or (get_command_name(callback.__name__) if callback else "")
        if name == wanted:
            single = copy.copy(app)
            single.registered_commands = [info]
            return single
    return app


def main() -> None:
    try:
        only(sys.argv[1:])()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
