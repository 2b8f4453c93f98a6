"""The command line: the only place that prints or exits.

Exit status: 0 success, 1 a command's own "no" (e.g. a stale bundle under --check), 2 a spec
or usage error. Spec errors are printed one per line as FILE:LINE:COL: error: path: message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hacompile import __version__, output
from hacompile.errors import Diagnostic, Severity, SpecError
from hacompile.output import JsonOption, Mode, QuietOption

if TYPE_CHECKING:
    from hacompile.render.bundle import Bundle

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
    from hacompile.write import Conflict

    if mode.json:
        conflicts = [{"path": c.path, "action": c.action, "reason": c.conflict}
                     for c in exc.conflicts] if isinstance(exc, Conflict) else []
        typer.echo(output.document(command, False, warnings, error=str(exc),
                                   conflicts=conflicts))
    else:
        typer.echo(f"{mode.err.paint('error:', 'red', bold=True)} {exc}", err=True)
    return typer.Exit(2 if not isinstance(exc, Conflict) else 1)


@app.command()
def build(
    spec: SpecArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")] = Path("out"),
    verify_bundle: Annotated[bool, typer.Option(
        "--verify", help="Then run `hacompile verify` on the output directory.")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; exit 1 and list the files a build would change.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite generated files edited by hand, and files hacompile did "
        "not generate where the bundle needs their path.")] = False,
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
    try:
        compiled = compile_spec(spec)
    except SpecError as exc:
        raise _spec_failed(mode, "build", exc) from None
    _diagnostics(mode, compiled.warnings)
    if check:
        raise _build_check(mode, compiled.bundle, compiled.warnings, out)
    try:
        result = write(compiled.bundle, out, force=force)
    except (WriteError, OSError) as exc:
        raise _write_failed(mode, "build", compiled.warnings, exc) from None
    if mode.json:
        typer.echo(output.document("build", True, compiled.warnings, out=str(out),
                                   written=list(result.written), removed=list(result.removed),
                                   unchanged=len(result.unchanged)))
    _say(mode, f"{out}: {len(result.written)} written, {len(result.removed)} removed, "
         f"{len(result.unchanged)} unchanged ({len(compiled.bundle.files)} files)")
    if verify_bundle:
        _run_verify(out, None)


def _build_check(mode: Mode, bundle: Bundle, warnings: tuple[Diagnostic, ...],
                 out: Path) -> typer.Exit:
    """`build --check`: exit 0 when `out` is what build would write, else 1 with the list."""
    from hacompile.write import WriteError, preview

    try:
        plan = preview(bundle, out)
    except (WriteError, OSError) as exc:
        return _write_failed(mode, "build", warnings, exc)
    if mode.json:
        typer.echo(output.document(
            "build", not plan.changes, warnings, out=str(out), check=True,
            changes=[{"path": c.path, "action": c.action, "conflict": c.conflict or None}
                     for c in plan.changes]))
    elif plan.changes:
        _say(mode, f"{out}: {output.count(len(plan.changes), 'file')} would change:")
        colour = {"create": "green", "update": "yellow", "remove": "red"}
        for c in plan.changes:
            note = f"  ({c.conflict})" if c.conflict else ""
            _say(mode, f"  {mode.out.paint(c.action.ljust(6), colour[c.action])} {c.path}{note}")
    else:
        _say(mode, f"{out}: up to date ({output.count(len(plan.unchanged), 'file')})")
    return typer.Exit(1 if plan.changes else 0)


@app.command()
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
    from hacompile.pipeline import compile_spec
    from hacompile.write import WriteError, preview

    mode = Mode.detect(json_, quiet)
    try:
        compiled = compile_spec(spec)
    except SpecError as exc:
        raise _spec_failed(mode, "diff", exc) from None
    _diagnostics(mode, compiled.warnings)
    try:
        plan = preview(compiled.bundle, out)
        text = unified(compiled.bundle, out, plan)
    except (WriteError, OSError) as exc:
        raise _write_failed(mode, "diff", compiled.warnings, exc) from None
    if mode.json:
        typer.echo(output.document("diff", True, compiled.warnings, out=str(out), diff=text,
                                   changes=[{"path": c.path, "action": c.action,
                                             "conflict": c.conflict or None}
                                            for c in plan.changes]))
    elif text:
        typer.echo(_colour_diff(text, mode), nl=False)
    raise typer.Exit(1 if plan.changes else 0)


def _colour_diff(text: str, mode: Mode) -> str:
    if not mode.out.color:
        return text
    colours = {"+": "green", "-": "red", "@": "cyan", "#": "yellow", "d": None}
    lines = []
    for line in text.splitlines(keepends=True):
        fg = colours.get(line[:1]) if line[:1] in colours else None
        bold = line.startswith(("diff ", "--- ", "+++ "))
        lines.append(mode.out.paint(line.rstrip("\n"), fg, bold=bold) + "\n"
                     if fg or bold else line)
    return "".join(lines)


@app.command()
def explain(
    spec: SpecArg,
    json_: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Show who holds each EIP in every failure scenario, the worst-case failover times and the
    failback behaviour; exit 2 if the failover proof fails."""
    from hacompile.failover import present
    from hacompile.pipeline import explain as analyse_spec

    mode = Mode.detect(json_, quiet)
    try:
        explained = analyse_spec(spec)
    except SpecError as exc:
        raise _spec_failed(mode, "explain", exc) from None
    report = explained.report
    errors = [d for d in explained.diagnostics if d.severity is Severity.ERROR]
    if mode.json:
        typer.echo(output.document("explain", not errors, explained.diagnostics,
                                   **present.data(report)))
        raise typer.Exit(2 if errors else 0)
    typer.echo(present.text(report, mode.out))
    _diagnostics(mode, explained.diagnostics)
    if errors:
        typer.echo(output.count(len(errors), "error"), err=True)
        raise typer.Exit(2)


@app.command()
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
    import os
    import sys as _sys

    from hacompile.starter import Choices, StarterError, render

    mode = Mode.detect(json_, quiet)
    defaults = Choices()
    if _sys.stdin.isatty() and not mode.json:
        name = name or typer.prompt("Cluster name", default=defaults.name)
        region = region or typer.prompt("AWS region", default=defaults.region)
        lbs = lbs or typer.prompt("Load balancers per region", default=defaults.lbs, type=int)
        flavor = flavor or typer.prompt("Flavor (community, hapee)", default=defaults.flavor)
    choices = Choices(name or defaults.name, region or defaults.region, lbs or defaults.lbs,
                      flavor or defaults.flavor)
    try:
        text = render(choices)
        if path.exists() and not force:
            raise StarterError(f"{path} exists; use --force to overwrite it")
        tmp = path.with_name(f".{path.name}.hacompile-new")
        tmp.write_text(text)
        os.replace(tmp, path)
    except (StarterError, OSError) as exc:
        if mode.json:
            typer.echo(output.document("init", False, error=str(exc)))
        else:
            typer.echo(f"{mode.err.paint('error:', 'red', bold=True)} {exc}", err=True)
        raise typer.Exit(2) from None
    if mode.json:
        typer.echo(output.document("init", True, path=str(path), name=choices.name,
                                   region=choices.region, lbs=choices.lbs,
                                   flavor=choices.flavor))
    _say(mode, f"{path}: written; next: hacompile explain {path} && hacompile build {path}")


def _run_verify(bundle: Path, only: list[str] | None) -> None:
    """Run the checkers, one line each as they finish; exit 1 if any available one failed."""
    from hacompile.verify.base import CheckResult, Status
    from hacompile.verify.runner import CHECKERS, run_checks

    unknown = [name for name in only or [] if name not in CHECKERS]
    if unknown:
        typer.echo(f"unknown checker(s): {', '.join(unknown)}; known: {', '.join(CHECKERS)}",
                   err=True)
        raise typer.Exit(2)
    if not bundle.is_dir():
        typer.echo(f"{bundle}: not a directory", err=True)
        raise typer.Exit(2)
    width = max(len(name) for name in CHECKERS)

    def show(result: CheckResult) -> None:
        detail = f"  ({result.detail})" if result.detail else ""
        if result.status is Status.UNAVAILABLE:
            detail = f": {result.detail}"
        count = len(result.findings)
        noun = f", {count} finding{'s' if count != 1 else ''}" if count else ""
        typer.echo(f"{result.name:<{width}}  {result.status.value}{noun}{detail}"
                   f"  [{result.seconds:.1f}s]")
        for finding in result.findings:
            typer.echo("    " + finding.replace("\n", "\n    "))

    results = run_checks(bundle, only, on_result=show)
    failed = [r.name for r in results if r.status is Status.FAILED]
    missing = [r.name for r in results if r.status is Status.UNAVAILABLE]
    passed = len(results) - len(failed) - len(missing)
    typer.echo(f"{bundle}: {passed} passed, {len(failed)} failed, {len(missing)} not available")
    if failed:
        raise typer.Exit(1)


@app.command()
def verify(
    bundle: Annotated[Path, typer.Argument(help="A bundle written by `hacompile build`.",
                                           show_default=False)],
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only this checker (repeatable).")] = None,
) -> None:
    """Prove a bundle with the real tools, offline: one line per checker; exit 1 on a failure."""
    _run_verify(bundle, only)


@app.command()
def validate(spec: SpecArg, json_: JsonOption = False, quiet: QuietOption = False) -> None:
    """Check SPEC, including the failover proof, and report every problem at once."""
    from hacompile.pipeline import check

    mode = Mode.detect(json_, quiet)
    try:
        validated = check(spec)
    except SpecError as exc:
        raise _spec_failed(mode, "validate", exc) from None
    _diagnostics(mode, validated.warnings)
    if mode.json:
        typer.echo(output.document("validate", True, validated.warnings, spec=str(spec)))
    _say(mode, f"{spec}: valid")


@app.command()
def schema(json_: JsonOption = False, quiet: QuietOption = False) -> None:
    """Print the spec's JSON Schema (for editors: yaml-language-server).

    The repository keeps it as schema/ha.schema.json; --json wraps it in the usual document.
    """
    from hacompile.spec.model import Spec

    document = Spec.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "hacompile spec (ha.yaml)"
    if json_:
        typer.echo(output.document("schema", True, schema=document))
        return
    typer.echo(json.dumps(document, indent=2, sort_keys=True))


@app.command()
def lab(
    spec: Annotated[Path | None, typer.Argument(help="The spec file (ha.yaml).",
                                                show_default=False)] = None,
    region: Annotated[str | None, typer.Option(help="Region to stand up (default: the first).")
                      ] = None,
    scenario: Annotated[list[str] | None, typer.Option(
        "--scenario", help="Run only this scenario (repeatable; default: the whole matrix).")
                        ] = None,
    repeat: Annotated[int, typer.Option(min=1, max=50, help="Repetitions of each scenario.")
                      ] = 1,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the results here.")
                         ] = None,
    cleanup: Annotated[bool, typer.Option("--cleanup", help="Only remove what crashed lab "
                                          "runs left behind (namespaces, processes, files).")
                       ] = False,
) -> None:
    """Run SPEC's LB tier locally in network namespaces and fail it over (root, Linux)."""
    from hacompile.lab import main as labmain
    from hacompile.lab import report
    from hacompile.lab.netns import LabError

    problem = labmain.preflight()
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    if cleanup:
        removed = labmain.cleanup()
        typer.echo(f"removed {len(removed)} leftover(s)" + "".join(f"\n  {r}" for r in removed))
        return
    if spec is None:
        typer.echo("error: SPEC is required (or --cleanup)", err=True)
        raise typer.Exit(2)
    try:
        run = labmain.run_lab(spec, region=region, scenarios=scenario, repeat=repeat,
                              say=typer.echo)
    except SpecError as exc:
        raise _fail(exc) from None
    except (LabError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for result in run.results:
        typer.echo("\n".join(report.timeline(result)))
    typer.echo("\n".join(report.table(run.results)))
    if json_file is not None:
        json_file.write_text(json.dumps(run.as_json(), indent=2) + "\n", encoding="utf-8")
        typer.echo(f"results written to {json_file}")
    typer.echo(f"{'PASS' if run.passed else 'FAIL'} ({run.total_s:.0f}s)")
    raise typer.Exit(0 if run.passed else 1)


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
