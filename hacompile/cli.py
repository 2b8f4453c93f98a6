"""The command line: the only place that prints or exits.

Exit status: 0 success, 1 a command's own "no" (e.g. a stale bundle under --check), 2 a spec
or usage error. Spec errors are printed one per line as FILE:LINE:COL: error: path: message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from hacompile import __version__
from hacompile.errors import Diagnostic, SpecError

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


@app.command()
def build(
    spec: SpecArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")] = Path("out"),
) -> None:
    """Validate SPEC and write the bundle into the output directory."""
    from hacompile.pipeline import compile_spec
    from hacompile.write import write

    try:
        compiled = compile_spec(spec)
    except SpecError as exc:
        raise _fail(exc) from None
    _print_diagnostics(compiled.warnings)
    result = write(compiled.bundle, out)
    typer.echo(f"{out}: {len(result.written)} written, {len(result.unchanged)} unchanged "
               f"({len(compiled.bundle.files)} files)")


@app.command()
def validate(spec: SpecArg) -> None:
    """Check SPEC and report every problem at once; write nothing."""
    from hacompile.pipeline import check

    try:
        validated = check(spec)
    except SpecError as exc:
        raise _fail(exc) from None
    _print_diagnostics(validated.warnings)
    typer.echo(f"{spec}: valid")


@app.command()
def schema() -> None:
    """Print the spec's JSON Schema (for editors: yaml-language-server)."""
    from hacompile.spec.model import Spec

    document = Spec.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "hacompile spec (ha.yaml)"
    typer.echo(json.dumps(document, indent=2, sort_keys=True))


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
