"""Commands that run real tools on a bundle: verify (offline checkers) and lab (failover in
network namespaces)."""

import json
from pathlib import Path
from typing import Annotated

import typer

from hacompile.cli.app import _fail, app
from hacompile.errors import SpecError


def run_verify(bundle: Path, only: list[str] | None) -> None:
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
    run_verify(bundle, only)


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
    booted: Annotated[bool, typer.Option("--booted", help="Boot every LB as a Debian host "
                                         "(systemd, SSH) and deploy it with the bundle's own "
                                         "playbook first: converge, idempotence, checks.")
                      ] = False,
    deploy_only: Annotated[bool, typer.Option("--deploy-only", help="With --booted: stop "
                                              "after the deploy and its checks.")] = False,
) -> None:
    """Run SPEC's LB tier locally in network namespaces and fail it over (root, Linux)."""
    from hacompile.lab.prereqs import check_prerequisites

    # First, before the spec is read or anything is built: what this machine lacks.
    ready = check_prerequisites(cleanup=cleanup, booted=booted)
    if not ready.ok:
        typer.echo(f"error: {ready.message()}", err=True)
        raise typer.Exit(2)
    from hacompile.lab import main as labmain
    from hacompile.lab import report
    from hacompile.lab.netns import LabError

    if cleanup:
        removed = labmain.cleanup()
        typer.echo(f"removed {len(removed)} leftover(s)" + "".join(f"\n  {r}" for r in removed))
        return
    if spec is None:
        typer.echo("error: SPEC is required (or --cleanup)", err=True)
        raise typer.Exit(2)
    try:
        run = labmain.run_lab(spec, region=region,
                              scenarios=[] if booted and deploy_only else scenario,
                              repeat=repeat, say=typer.echo, booted=booted)
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
