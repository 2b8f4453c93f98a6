"""Commands that run real tools on a bundle: verify (offline checkers) and lab (failover in
network namespaces)."""

from pathlib import Path
from typing import Annotated, Any

import typer

from hacompile import output
from hacompile.cli.app import Failure, app, reports_errors, say
from hacompile.output import JsonOption, Mode, QuietOption


def run_verify(bundle: Path, only: list[str] | None, mode: Mode) -> tuple[bool, dict[str, Any]]:
    """Run the checkers, one line each as they finish (--quiet: only those that failed, with
    their findings; --json: none); return whether none failed and the --json fields, which
    `verify` prints as its document and `build --verify` puts in its own."""
    from hacompile.verify.base import CheckResult, Status
    from hacompile.verify.runner import CHECKERS, run_checks

    unknown = [name for name in only or [] if name not in CHECKERS]
    if unknown:
        raise Failure(f"unknown checker(s): {', '.join(unknown)}; known: {', '.join(CHECKERS)}")
    if not bundle.is_dir():
        raise Failure("not a directory", where=str(bundle))
    width = max(len(name) for name in CHECKERS)

    def show(result: CheckResult) -> None:
        if mode.json or (mode.quiet and result.status is not Status.FAILED):
            return
        detail = f"  ({result.detail})" if result.detail else ""
        if result.status is Status.UNAVAILABLE:
            detail = f": {result.detail}"
        count = len(result.findings)
        noun = f", {count} finding{'s' if count != 1 else ''}" if count else ""
        typer.echo(
            f"{result.name:<{width}}  {result.status.value}{noun}{detail}  [{result.seconds:.1f}s]"
        )
        for finding in result.findings:
            typer.echo("    " + finding.replace("\n", "\n    "))

    results = run_checks(bundle, only, on_result=show)
    failed = [r.name for r in results if r.status is Status.FAILED]
    missing = [r.name for r in results if r.status is Status.UNAVAILABLE]
    passed = len(results) - len(failed) - len(missing)
    say(mode, f"{bundle}: {passed} passed, {len(failed)} failed, {len(missing)} not available")
    return not failed, {
        "bundle": str(bundle),
        "passed": passed,
        "failed": len(failed),
        "unavailable": len(missing),
        "checks": [
            {
                "name": r.name,
                "status": r.status.value,
                "detail": r.detail,
                "findings": list(r.findings),
                "seconds": round(r.seconds, 1),
            }
            for r in results
        ],
    }


@app.command()
@reports_errors("verify")
def verify(
    bundle: Annotated[
        Path, typer.Argument(help="A bundle written by `hacompile build`.", show_default=False)
    ],
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only this checker (repeatable).")
    ] = None,
    json_: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Prove a bundle with the real tools, offline: one line per checker; exit 1 on a failure."""
    mode = Mode.detect(json_, quiet)
    ok, fields = run_verify(bundle, only, mode)
    if mode.json:
        typer.echo(output.document("verify", ok, **fields))
    if not ok:
        raise typer.Exit(1)


@app.command()
@reports_errors("lab")
def lab(
    spec: Annotated[
        Path | None, typer.Argument(help="The spec file (ha.yaml).", show_default=False)
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="Region to stand up (default: the first).")
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario", help="Run only this scenario (repeatable; default: the whole matrix)."
        ),
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, max=50, help="Repetitions of each scenario.")] = 1,
    results: Annotated[
        Path | None,
        typer.Option(
            "--results", help="Also write the results (the --json document's run) to this file."
        ),
    ] = None,
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write an HTML report to this file: one self-contained page with a "
            "timeline per scenario (EIP owners, client requests, faults, VRRP states, claim "
            "calls) and the summary table.",
        ),
    ] = None,
    cleanup: Annotated[
        bool,
        typer.Option(
            "--cleanup",
            help="Only remove what crashed lab runs left behind (namespaces, processes, files).",
        ),
    ] = False,
    booted: Annotated[
        bool,
        typer.Option(
            "--booted",
            help="Boot every LB as a Debian host "
            "(systemd, SSH) and deploy it with the bundle's own "
            "playbook first: converge, idempotence, checks.",
        ),
    ] = False,
    deploy_only: Annotated[
        bool,
        typer.Option("--deploy-only", help="With --booted: stop after the deploy and its checks."),
    ] = False,
    procedure: Annotated[
        list[str] | None,
        typer.Option(
            "--procedure",
            help="With --booted: after the scenarios, run this day-2 procedure under the "
            "client's traffic (repeatable): rolling-maintenance, maintenance-refused, "
            "maintenance-step-fails, status-drift, node-replaced.",
        ),
    ] = None,
    json_: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run SPEC's LB tier locally in network namespaces and fail it over (root, Linux)."""
    from hacompile.lab.prereqs import check_prerequisites

    mode = Mode.detect(json_, quiet)
    # First, before the spec is read or anything is built: what this machine lacks.
    ready = check_prerequisites(cleanup=cleanup, booted=booted)
    if not ready.ok:
        raise Failure(ready.message())
    from hacompile.lab import main as labmain
    from hacompile.lab import report
    from hacompile.lab.netns import LabError

    if cleanup:
        removed = labmain.cleanup()
        if mode.json:
            typer.echo(output.document("lab", True, removed=removed))
        say(mode, f"removed {len(removed)} leftover(s)" + "".join(f"\n  {r}" for r in removed))
        return
    if spec is None:
        raise Failure("SPEC is required (or --cleanup)")
    try:
        run = labmain.run_lab(
            spec,
            region=region,
            scenarios=[] if booted and deploy_only else scenario,
            repeat=repeat,
            say=lambda text: say(mode, text),
            booted=booted,
            procedures=procedure,
        )
    except (LabError, ValueError) as exc:
        raise Failure(str(exc)) from None
    for result in run.results:
        say(mode, "\n".join(report.timeline(result)))
    if not mode.json:  # the table and the verdict are what the lab exists to print
        typer.echo("\n".join(report.table(run.results)))
        for line in report.procedure_lines(run.procedures):
            typer.echo(line)
    if results is not None:
        run.save(results)
        say(mode, f"results written to {results}")
    if report_file is not None:
        run.write_report(report_file)
        say(mode, f"report written to {report_file}")
    if mode.json:
        typer.echo(output.document("lab", run.passed, **run.as_json()))
    else:
        typer.echo(f"{'PASS' if run.passed else 'FAIL'} ({run.total_s:.0f}s)")
    raise typer.Exit(0 if run.passed else 1)
