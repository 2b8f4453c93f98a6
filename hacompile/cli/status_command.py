"""`hacompile status`: the tier in EC2 against the plan, with the operator's AWS credentials."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hacompile import output
from hacompile.cli.app import Failure, SpecArg, app, reports_errors, say, show_diagnostics
from hacompile.output import JsonOption, Mode, QuietOption

if TYPE_CHECKING:
    from hacompile.status import RegionStatus


@app.command()
@reports_errors("status")
def status(
    spec: SpecArg,
    region: Annotated[
        str | None, typer.Option(help="Only this region of the spec (default: every one).")
    ] = None,
    json_: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Compare EC2 with the plan: who holds each EIP and private VIP, each LB's instance.

    Uses the default AWS credential chain (AWS_PROFILE, AWS_ENDPOINT_URL, ...). Exit 0 when
    the tier is as planned, 1 on drift (one line each), 2 on a spec or AWS error.
    """
    from hacompile.pipeline import check
    from hacompile.status import StatusError, check_status, ec2_clients

    mode = Mode.detect(json_, quiet)
    checked = check(spec)
    show_diagnostics(mode, checked.warnings)
    try:
        found = check_status(checked.plan, ec2_clients(), region)
    except StatusError as exc:
        raise Failure(str(exc), warnings=checked.warnings) from None
    if mode.json:
        typer.echo(
            output.document(
                "status",
                found.ok,
                checked.warnings,
                spec=str(spec),
                regions=[_region_data(r) for r in found.regions],
                drift=list(found.drift),
            )
        )
    else:
        for r in found.regions:
            say(mode, _region_text(r, mode))
        for line in found.drift:  # what the command exists to say: also under --quiet
            typer.echo(f"{mode.out.paint('drift:', 'red', bold=True)} {line}")
        if found.ok:
            say(mode, "no drift: every address is at its owner and every LB is running")
        else:
            say(mode, output.count(len(found.drift), "drift item"))
    raise typer.Exit(0 if found.ok else 1)


def _region_data(r: "RegionStatus") -> dict[str, Any]:
    return {
        "name": r.name,
        "ok": not r.drift,
        "addresses": [
            {
                "name": a.name,
                "kind": a.kind,
                "strategy": a.strategy,
                ("public_ip" if a.kind == "eip" else "address"): a.address,
                "should": a.should,
                "now": list(a.now),
                "ok": a.ok,
                "problem": a.problem,
            }
            for a in r.addresses
        ],
        "lbs": [
            {
                "name": lb.name,
                "instance_id": lb.instance_id,
                "state": lb.state,
                "eni_id": lb.eni_id,
                "holds": list(lb.holds),
                "ok": lb.ok,
                "problem": lb.problem,
            }
            for lb in r.lbs
        ],
        "drift": list(r.drift),
    }


def _region_text(r: "RegionStatus", mode: Mode) -> str:
    def verdict(ok: bool) -> str:
        return mode.out.paint("ok", "green") if ok else mode.out.paint("DRIFT", "red", bold=True)

    addresses = output.table(
        ["ADDRESS", "KIND", "IP", "SHOULD", "NOW", "STATUS"],
        [
            [
                a.name,
                a.kind if a.kind == "eip" else f"vip/{a.strategy}",
                a.address or "-",
                a.should,
                ",".join(a.now) or "-",
                verdict(a.ok),
            ]
            for a in r.addresses
        ],
        mode.out,
    )
    lbs = output.table(
        ["LB", "INSTANCE", "STATE", "HOLDS", "STATUS"],
        [
            [lb.name, lb.instance_id or "-", lb.state, ",".join(lb.holds) or "-", verdict(lb.ok)]
            for lb in r.lbs
        ],
        mode.out,
    )
    return f"{mode.out.paint(r.name, bold=True)}\n{addresses}\n\n{lbs}\n"
