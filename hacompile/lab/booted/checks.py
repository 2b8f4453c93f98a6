"""After the deploy: is the tier really up? The checks that a converged, idempotent play with no
EIP claimed (today's first real deploy) would have failed.

Why these: a play can pass while HAProxy serves the distribution's stock config (a reload that
failed at run time), while a unit failed, or while no notify script could record a state or
claim an EIP (keepalived's umask). Each check asks the running host or the emulated cloud, never
the files Ansible wrote.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hacompile.lab.hosts import in_netns
from hacompile.lab.netns import LabError, sh
from hacompile.lab.observe import cloud_call
from hacompile.plan import routing
from hacompile.plan.model import Frontend
from hacompile.record import Record

if TYPE_CHECKING:
    from hacompile.lab.booted.lab import BootedLab


class Result(Record):
    name: str
    ok: bool
    detail: str


def _answering(lab: BootedLab) -> list[Frontend]:
    """HTTP frontends that answer from a backend, plain ones first (a redirecting one does
    not; an HTTPS one's certificates are checked in hacompile.lab.booted.tls_checks)."""
    fes = [f for f in lab.plan.haproxy.frontends if f.mode == "http" and not f.redirect_https]
    return sorted(fes, key=lambda f: bool(f.crts))


def answering_port(lab: BootedLab) -> int:
    fes = _answering(lab)
    return fes[0].port if fes else 0


def answering_url(lab: BootedLab, ip: str) -> str:
    """`http://IP:PORT/`, or `https://` when every answering frontend terminates TLS."""
    fe = _answering(lab)[0]
    return f"{'https' if fe.crts else 'http'}://{ip}:{fe.port}/"


def host_checks(lab: BootedLab) -> list[Result]:
    """What each host itself says: failed units, listeners, answers, secondary IPs."""
    out: list[Result] = []
    region = lab.plan.regions[lab.region_index]
    ports = [f.port for f in lab.plan.haproxy.frontends]
    http = answering_port(lab)
    for key, machine in lab.machines.items():
        failed = machine.systemctl("--failed", "--no-legend", "--plain", check=False).strip()
        out.append(Result(f"{key}: no failed units", not failed, failed or "none"))
    for lb in region.load_balancers:
        machine = lab.machines[lb.key]
        listen = machine.run("ss", "-Hltnp", check=False).stdout
        process = lab.plan.flavor.haproxy_process
        for port in ports:
            mine = [
                line
                for line in listen.splitlines()
                if line.split()[3].endswith(f":{port}") and f'"{process}"' in line
            ]
            out.append(
                Result(
                    f"{lb.key}: {process} listens on :{port}",
                    bool(mine),
                    mine[0].split()[3] if mine else "no listener",
                )
            )
        if http:
            got = machine.run(
                "curl", "-fsSk", "--max-time", "5", answering_url(lab, lb.private_ip), check=False
            )
            out.append(
                Result(
                    f"{lb.key}: :{http} answers from a backend (generated config)",
                    got.returncode == 0 and bool(got.stdout.strip()),
                    (got.stdout or got.stderr).strip().splitlines()[0][:80]
                    if (got.stdout or got.stderr).strip()
                    else "no answer",
                )
            )
        # One start, no reload: the converge writes the config once and the idempotence run
        # not at all (a reload right after the first start was finding 7).
        unit = lab.plan.flavor.keepalived_service
        journal = machine.run(
            "journalctl", "-u", unit, "-o", "cat", "--no-pager", check=False
        ).stdout
        reloads = journal.count("Reloading")
        out.append(
            Result(
                f"{lb.key}: {unit} started once and never reloaded",
                reloads == 0,
                f"{reloads} reload(s)",
            )
        )
        addrs = machine.run("ip", "-4", "-o", "addr", "show", check=False).stdout
        missing = [ip for ip in lb.slot_ips if f" {ip}/" not in addrs]
        out.append(
            Result(
                f"{lb.key}: secondary IPs {', '.join(lb.slot_ips)}",
                not missing,
                f"missing {', '.join(missing)}" if missing else "present",
            )
        )
    return out


def vrrp_checks(lab: BootedLab) -> list[Result]:
    """VRRP state recorded by the notify hook, one MASTER per EIP, each EIP on its owner's slot
    in the cloud (the association moto holds, and the slot the claim asked for)."""
    out: list[Result] = []
    region = lab.plan.regions[lab.region_index]
    states = {
        lb.key: {i.name: lab.machines[lb.key].state(i.name) for i in lb.instances}
        for lb in region.load_balancers
    }
    for lb, by_eip in states.items():
        unset = [eip for eip, state in by_eip.items() if not state]
        out.append(
            Result(
                f"{lb}: VRRP state recorded for every instance",
                not unset,
                f"none for {', '.join(unset)}"
                if unset
                else ", ".join(f"{e}={s}" for e, s in sorted(by_eip.items())),
            )
        )
    try:
        mapping = cloud_call(lab.dir / "cloud.sock", {"op": "state"})["mapping"]
        calls = cloud_call(lab.dir / "cloud.sock", {"op": "calls"})["calls"]
    except (OSError, KeyError, LabError) as exc:
        return [*out, Result("the cloud answers", False, str(exc))]
    for eip in region.eips:
        masters = sorted(lb for lb, by_eip in states.items() if by_eip.get(eip.key) == "MASTER")
        out.append(
            Result(
                f"{eip.key}: exactly one MASTER ({eip.master})",
                masters == [eip.master],
                ", ".join(masters) or "none",
            )
        )
        owner = next(lb for lb in region.load_balancers if lb.key == eip.master)
        slot = owner.slot_ips[[e.key for e in region.eips].index(eip.key)]
        alloc = lab.ids["eips"][eip.key]["allocation_id"]
        last = [
            c
            for c in calls
            if c["action"] == "AssociateAddress" and c["alloc"] == alloc and not c["failed"]
        ]
        asked = last[-1]["ip"] if last else ""
        held = mapping.get(eip.key, "")
        out.append(
            Result(
                f"{eip.key}: associated with {eip.master}'s slot {slot}",
                held == eip.master and asked == slot,
                f"on {held or 'nothing'}, last claim for {asked or 'nothing'}",
            )
        )
    return out


def vip_checks(lab: BootedLab) -> list[Result]:
    """Per private VIP: one MASTER (its owner), EC2 sending it to the owner (what the router
    follows), and the VPC client answered through it by a backend."""
    out: list[Result] = []
    if not lab.topo.vips:
        return out
    try:
        mapping = cloud_call(lab.dir / "cloud.sock", {"op": "state"})["mapping"]
    except (OSError, KeyError, LabError) as exc:
        return [Result("the cloud answers", False, str(exc))]
    for vip in lab.topo.vips:
        masters = sorted(k for k in vip.holders if lab.machines[k].state(vip.key) == "MASTER")
        out.append(
            Result(
                f"{vip.key}: exactly one MASTER ({vip.owner})",
                masters == [vip.owner],
                ", ".join(masters) or "none",
            )
        )
        held = mapping.get(vip.key, "")
        out.append(
            Result(
                f"{vip.key}: EC2 sends {vip.address} to {vip.owner}",
                held == vip.owner,
                f"to {held or 'nowhere'}",
            )
        )
        url = answering_url(lab, vip.address)
        cmd = ["curl", "-fsSk", "--max-time", "5", url]
        got = sh(*in_netns(lab.topo.ns("vclient"), cmd), timeout=15, check=False).strip()
        out.append(
            Result(
                f"{vip.key}: the VPC client is answered through {vip.address}",
                bool(got),  # curl -f: an HTTP answer that is not an error
                got.splitlines()[0][:80] if got else "no answer",
            )
        )
    return out


def post_deploy(
    lab: BootedLab, timeout: float, more: Callable[[BootedLab], list[Result]] | None = None
) -> tuple[list[Result], float]:
    """All checks (and `more`'s), asked again until they pass or `timeout` runs out (the
    owners may still be waiting out preempt_delay); returns the last results and how long it
    took."""
    started = time.monotonic()
    results: list[Result] = []
    for _ in range(10_000):
        results = host_checks(lab) + vrrp_checks(lab) + vip_checks(lab) + route_checks(lab)
        results += more(lab) if more else []
        if all(r.ok for r in results) or time.monotonic() - started > timeout:
            break
        time.sleep(1.0)
    return results, time.monotonic() - started


def route_checks(lab: BootedLab) -> list[Result]:
    """With named pools: from the lab's client, through every EIP, one request per route (its
    host in the Host header, its path) and one no route names; the demo server that answers
    names its pool, which must be the one the routes send that request to
    (hacompile.plan.routing.samples). Proves the routes on the deployed HAProxy, end to end."""
    if not lab.plan.haproxy.pools:
        return []
    out: list[Result] = []
    client = lab.topo.ns("client")
    for fe in lab.plan.haproxy.frontends:
        if fe.mode != "http" or fe.crts or fe.redirect_https:
            continue  # HTTPS and redirects: hacompile.lab.booted.tls_checks
        for eip in lab.topo.eips:
            for sample in routing.samples(fe):
                url = f"http://{eip.address}:{fe.port}{sample.path}"
                try:
                    body = sh(
                        *in_netns(
                            client,
                            ["curl", "-sS", "--max-time", "5", "-H", f"Host: {sample.host}", url],
                        ),
                        timeout=15,
                        check=False,
                    )
                except LabError as exc:
                    body = str(exc)
                served = next(
                    (
                        ln.removeprefix("<p>Served by ").removesuffix("</p>")
                        for ln in body.splitlines()
                        if ln.startswith("<p>Served by ")
                    ),
                    body.strip()[:80] or "no answer",
                )
                out.append(
                    Result(
                        f"{eip.key}: {fe.name} Host {sample.host} {sample.path} -> pool "
                        f"{sample.pool}",
                        f"<p>Pool {sample.pool}</p>" in body,
                        served,
                    )
                )
    return out
