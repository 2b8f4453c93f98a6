"""Commands that read a spec: build, diff, explain, init, validate, schema."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hacompile import output
from hacompile.cli.app import (
    Failure,
    SpecArg,
    app,
    reports_errors,
    say,
    show_diagnostics,
    write_failure,
)
from hacompile.errors import Diagnostic, Severity
from hacompile.output import JsonOption, Mode, QuietOption

if TYPE_CHECKING:
    from hacompile.render.bundle import Bundle


@app.command()
@reports_errors("build")
def build(
    spec: SpecArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")] = Path("out"),
    verify_bundle: Annotated[
        bool, typer.Option("--verify", help="Then run `hacompile verify` on the output directory.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; exit 1 and list the files a build would change."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite generated files edited by hand, and files hacompile did "
            "not generate where the bundle needs their path.",
        ),
    ] = False,
    json_: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Validate SPEC and write the bundle into the output directory.

    Only files hacompile generated are replaced or removed; a generated file edited by hand is
    refused (exit 1, named) unless --force; an interrupted build leaves the old bundle intact.
    """
    from hacompile.pipeline import compile_spec
    from hacompile.write import WriteError, write

    mode = Mode.detect(json_, quiet)
    compiled = compile_spec(spec)
    show_diagnostics(mode, compiled.warnings)
    if check:
        raise _build_check(mode, compiled.bundle, compiled.warnings, out)
    try:
        result = write(compiled.bundle, out, force=force)
    except (WriteError, OSError) as exc:
        raise write_failure(compiled.warnings, exc) from None
    say(
        mode,
        f"{out}: {len(result.written)} written, {len(result.removed)} removed, "
        f"{len(result.unchanged)} unchanged ({len(compiled.bundle.files)} files)",
    )
    verified, checks = True, {}
    if verify_bundle:  # under --json its result goes into build's one document
        from hacompile.cli.tool_commands import run_verify

        verified, fields = run_verify(out, None, mode)
        checks = {"verify": fields}
    if mode.json:
        typer.echo(
            output.document(
                "build",
                verified,
                compiled.warnings,
                out=str(out),
                written=list(result.written),
                removed=list(result.removed),
                unchanged=len(result.unchanged),
                **checks,
            )
        )
    if not verified:
        raise typer.Exit(1)


def _build_check(
    mode: Mode, bundle: "Bundle", warnings: tuple[Diagnostic, ...], out: Path
) -> typer.Exit:
    """`build --check`: exit 0 when `out` is what build would write, else 1 with the list."""
    from hacompile.write import WriteError, preview

    try:
        would = preview(bundle, out)
    except (WriteError, OSError) as exc:
        raise write_failure(warnings, exc) from None
    if mode.json:
        typer.echo(
            output.document(
                "build",
                not would.changes,
                warnings,
                out=str(out),
                check=True,
                changes=[
                    {"path": c.path, "action": c.action, "conflict": c.conflict or None}
                    for c in would.changes
                ],
            )
        )
    elif would.changes:
        say(mode, f"{out}: {output.count(len(would.changes), 'file')} would change:")
        colour = {"create": "green", "update": "yellow", "remove": "red"}
        for c in would.changes:
            note = f"  ({c.conflict})" if c.conflict else ""
            say(mode, f"  {mode.out.paint(c.action.ljust(6), colour[c.action])} {c.path}{note}")
    else:
        say(mode, f"{out}: up to date ({output.count(len(would.unchanged), 'file')})")
    return typer.Exit(1 if would.changes else 0)


@app.command()
@reports_errors("diff")
def diff(
    spec: SpecArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")] = Path("out"),
    json_: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Show the unified diff of what `build` would change; exit 1 if it would change anything.

    Like diff(1): 0 when the output directory is current, 1 when it differs, 2 on errors.
    """
    from hacompile.bundlediff import unified
    from hacompile.outlock import locked
    from hacompile.pipeline import compile_spec
    from hacompile.write import WriteError, preview

    mode = Mode.detect(json_, quiet)
    compiled = compile_spec(spec)
    show_diagnostics(mode, compiled.warnings)
    try:
        with locked(out, shared=True):  # no build may change what is being compared
            would = preview(compiled.bundle, out)
            text = unified(compiled.bundle, out, would)
    except (WriteError, OSError) as exc:
        raise write_failure(compiled.warnings, exc) from None
    if mode.json:
        typer.echo(
            output.document(
                "diff",
                True,
                compiled.warnings,
                out=str(out),
                diff=text,
                changes=[
                    {"path": c.path, "action": c.action, "conflict": c.conflict or None}
                    for c in would.changes
                ],
            )
        )
    elif text:
        typer.echo(_colour_diff(text, mode), nl=False)
    raise typer.Exit(1 if would.changes else 0)


def _colour_diff(text: str, mode: Mode) -> str:
    if not mode.out.color:
        return text
    colours = {"+": "green", "-": "red", "@": "cyan", "#": "yellow", "d": None}
    lines = []
    for line in text.splitlines(keepends=True):
        fg = colours.get(line[:1]) if line[:1] in colours else None
        bold = line.startswith(("diff ", "--- ", "+++ "))
        lines.append(
            mode.out.paint(line.rstrip("\n"), fg, bold=bold) + "\n" if fg or bold else line
        )
    return "".join(lines)


@app.command()
@reports_errors("explain")
def explain(
    spec: SpecArg,
    json_: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Show who holds each EIP in every failure scenario, the worst-case failover times and the
    failback behaviour; exit 2 if the failover proof fails."""
    from hacompile.failover import present
    from hacompile.pipeline import explain as analyse_spec
    from hacompile.plan import routing

    mode = Mode.detect(json_, quiet)
    explained = analyse_spec(spec)
    report = explained.report
    errors = [d for d in explained.diagnostics if d.severity is Severity.ERROR]
    routed = bool(explained.plan.haproxy.pools or explained.plan.tls.files)
    if mode.json:
        extra = {"routing": routing.described(explained.plan)} if routed else {}
        typer.echo(
            output.document(
                "explain", not errors, explained.diagnostics, **present.data(report), **extra
            )
        )
        raise typer.Exit(2 if errors else 0)
    typer.echo(present.text(report, mode.out))
    if routed:
        typer.echo("\n".join(routing.lines(explained.plan)))
    show_diagnostics(mode, explained.diagnostics)
    if errors:
        typer.echo(output.count(len(errors), "error"), err=True)
        raise typer.Exit(2)


@app.command()
@reports_errors("init")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the spec.")] = Path("ha.yaml"),
    region: Annotated[str | None, typer.Option(help="AWS region [us-east-1].")] = None,
    lbs: Annotated[int | None, typer.Option(help="Load balancers per region, 2-8 [2].")] = None,
    flavor: Annotated[str | None, typer.Option(help="community or hapee [community].")] = None,
    name: Annotated[str | None, typer.Option(help="Cluster name [web].")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH.")] = False,
    json_: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write a commented starter spec that validates and builds as it is.

    On a terminal, asks for the values not given as options; otherwise uses the defaults.
    """
    import sys as _sys

    from hacompile.starter import Choices, StarterError, write_starter

    mode = Mode.detect(json_, quiet)
    defaults = Choices()
    if _sys.stdin.isatty() and not mode.json:
        name = name or typer.prompt("Cluster name", default=defaults.name)
        region = region or typer.prompt("AWS region", default=defaults.region)
        lbs = lbs or typer.prompt("Load balancers per region", default=defaults.lbs, type=int)
        flavor = flavor or typer.prompt("Flavor (community, hapee)", default=defaults.flavor)
    choices = Choices(
        name or defaults.name,
        region or defaults.region,
        lbs or defaults.lbs,
        flavor or defaults.flavor,
    )
    try:
        write_starter(path, choices, force=force)
    except (StarterError, OSError) as exc:
        raise Failure(str(exc)) from None
    if mode.json:
        typer.echo(
            output.document(
                "init",
                True,
                path=str(path),
                name=choices.name,
                region=choices.region,
                lbs=choices.lbs,
                flavor=choices.flavor,
            )
        )
    say(mode, f"{path}: written; next: hacompile explain {path} && hacompile build {path}")


@app.command()
@reports_errors("validate")
def validate(spec: SpecArg, json_: JsonOption = False, quiet: QuietOption = False) -> None:
    """Check SPEC, including the failover proof, and report every problem at once."""
    from hacompile.pipeline import check

    mode = Mode.detect(json_, quiet)
    checked = check(spec)
    show_diagnostics(mode, checked.warnings)
    if mode.json:
        typer.echo(output.document("validate", True, checked.warnings, spec=str(spec)))
    say(mode, f"{spec}: valid")


@app.command()
def schema(json_: JsonOption = False, quiet: QuietOption = False) -> None:
    """Print the spec's JSON Schema (for editors: yaml-language-server).

    The repository keeps it as schema/ha.schema.json; --json wraps it in the usual document.
    """
    import json

    from hacompile.spec.model import Spec

    document = Spec.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "hacompile spec (ha.yaml)"
    if json_:
        typer.echo(output.document("schema", True, schema=document))
        return
    typer.echo(json.dumps(document, indent=2, sort_keys=True))
