"""Booted hosts with `tls` in the spec: the lab's CA, the stored versions, and what is served.

Why the lab stores the certificates itself: the bundle only says where each PEM bundle lives
(Secrets Manager or SSM); every load balancer fetches it from there. So before the deploy the
lab puts a bundle from its own CA (hacompile.lab.tlsca) into the emulated cloud under each
spec name, the way an operator would, and remembers each leaf's fingerprint: every check and
scenario then asks the running tier which certificate it serves for a name, through every EIP
and on every LB directly, and compares fingerprints (a certificate is what the client saw, not
a file on a host).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hacompile.lab.hosts import in_netns, py_env
from hacompile.lab.netns import LabError
from hacompile.lab.observe import cloud_call
from hacompile.lab.tlsca import Issued, LabCa
from hacompile.plan import model as p

if TYPE_CHECKING:
    from hacompile.lab.booted.lab import BootedLab

SYNC_UNIT = "hacompile-tls-sync"
METRICS_PATH = "/metrics/tls"
JOURNAL_TAG = "hacompile-tls"


@dataclass
class TlsState:
    """The lab's CA and, per certificate name, the fingerprint of the version now stored."""

    ca: LabCa
    stored: dict[str, str] = field(default_factory=dict)
    issued: dict[str, list[Issued]] = field(default_factory=dict)  # every version, in order


def certificates(plan: p.Plan) -> tuple[p.TlsFile, ...]:
    return tuple(f for f in plan.tls.files if f.kind == "certificate")


def https_frontends(plan: p.Plan) -> tuple[p.Frontend, ...]:
    return tuple(fe for fe in plan.haproxy.frontends if fe.crts)


def redirect_frontends(plan: p.Plan) -> tuple[p.Frontend, ...]:
    return tuple(fe for fe in plan.haproxy.frontends if fe.redirect_https)


def probe_name(name: str) -> str:
    """A host name a certificate name covers: a wildcard's `probe.` name, else itself."""
    return name.replace("*", "probe", 1)


def seed(lab: BootedLab) -> TlsState | None:
    """With certificates in the plan: a fresh root and intermediate in the lab directory,
    and one leaf per certificate stored under its spec name, in the lab's region."""
    files = certificates(lab.plan)
    if not files:
        return None
    state = TlsState(LabCa.create(lab.dir / "tls-ca"))
    for cert in files:
        issued = state.ca.issue(cert.names)
        store(lab, state, cert, issued)
        state.stored[cert.name] = issued.sha256
    lab.note(
        f"TLS: the lab's own CA (root and intermediate, keys in {lab.dir / 'tls-ca'}, never in "
        "the bundle) issued "
        + ", ".join(
            f"{c.name} ({', '.join(c.names)}) into "
            f"{'Secrets Manager' if c.store == 'secretsmanager' else 'SSM SecureString'} "
            f"{c.secret_id}"
            for c in files
        )
        + "; each stored PEM is leaf, intermediate, root, key (an operator's private CA: the "
        "hosts find the root in the bundle), and the client trusts the root"
    )
    return state


def store(lab: BootedLab, state: TlsState, cert: p.TlsFile, issued: Issued) -> str:
    """Put `issued` as the current version of `cert`'s secret (the cloud host's moto);
    returns the version ID. Only a version with a matching key becomes the expected one."""
    version = cloud_call(
        lab.dir / "cloud.sock",
        {"op": "secret", "store": cert.store, "name": cert.secret_id, "value": issued.pem},
    )["version"]
    state.issued.setdefault(cert.name, []).append(issued)
    return str(version)


def addresses(lab: BootedLab) -> dict[str, str]:
    """Where a client can reach HTTPS: every EIP's lab address and every LB's own."""
    out = {e.key: e.address for e in lab.topo.eips}
    out.update({lb.key: lb.private_ip for lb in lab.plan.regions[lab.region_index].load_balancers})
    return out


def fetch(
    lab: BootedLab, requests: list[dict[str, str]], timeout: float = 5
) -> list[dict[str, Any]]:
    """One verified HTTPS GET per request (`url`, `sni`) from the lab's client namespace
    (hacompile.lab.probe --once): status, body, served fingerprint or the error."""
    assert lab.tls is not None
    cfg = {"cafile": str(lab.tls.ca.root_file), "timeout": timeout, "requests": requests}
    cmd = in_netns(
        lab.topo.ns("client"),
        [sys.executable, "-m", "hacompile.lab.probe", "--once", json.dumps(cfg)],
    )
    bound = 10 + len(requests) * (timeout + 1)
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, env=py_env(), timeout=bound, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"HTTPS requests from the client ran over {bound}s") from exc
    if done.returncode != 0:
        raise LabError(f"HTTPS requests from the client failed: {done.stderr.strip()[-400:]}")
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers


def served(lab: BootedLab, name: str, port: int = 443) -> dict[str, str]:
    """The fingerprint each address (EIP or LB) serves for server name `name` ('' with the
    error in front when the handshake or its verification failed)."""
    where = addresses(lab)
    got = fetch(
        lab, [{"url": f"https://{ip}:{port}/", "sni": probe_name(name)} for ip in where.values()]
    )
    return {key: a["sha256"] or f"error {a['error']}" for key, a in zip(where, got, strict=True)}


def wait_served(
    lab: BootedLab, name: str, sha: str, timeout: float, every: float = 2.0
) -> tuple[float, dict[str, str]]:
    """Ask every address until all serve `sha` for `name` or `timeout` s ran out: the seconds
    it took (-1 on timeout) and the last answers."""
    started = time.monotonic()
    last: dict[str, str] = {}
    for _ in range(int(timeout / every) + 2):
        last = served(lab, name)
        if all(v == sha for v in last.values()):
            return time.monotonic() - started, last
        if time.monotonic() - started > timeout:
            break
        time.sleep(every)
    return -1.0, last


def probe_targets(lab: BootedLab) -> list[dict[str, str]]:
    """The client's steady traffic with an HTTPS frontend: every EIP on its port, with the
    first certificate's first name as server name, verified against the lab's root."""
    fes = https_frontends(lab.plan)
    if not fes or lab.tls is None:
        return []
    sni = probe_name(certificates(lab.plan)[0].names[0])
    return [
        {
            "eip": e.key,
            "url": f"https://{e.address}:{fes[0].port}/",
            "sni": sni,
            "cafile": str(lab.tls.ca.root_file),
        }
        for e in lab.topo.eips
    ]


def sync_metrics(lab: BootedLab, lb: str) -> tuple[int, str]:
    """/metrics/tls of `lb`, asked from the LB itself (its own address is inside the VPC)."""
    from hacompile.lab.booted.metrics import _get

    host = next(x for x in lab.plan.regions[lab.region_index].load_balancers if x.key == lb)
    url = f"http://{host.private_ip}:{lab.plan.observability.metrics_port}{METRICS_PATH}"
    return _get(lab, lb, url)


def journal(lab: BootedLab, lb: str) -> str:
    """What the sync script logged on `lb` (`journalctl -t hacompile-tls`)."""
    return str(
        lab.machines[lb]
        .run("journalctl", "-t", JOURNAL_TAG, "-o", "cat", "--no-pager", check=False)
        .stdout
    )
