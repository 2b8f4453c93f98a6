"""Booted hosts with `metrics` and `logs` in the spec: what Prometheus and an operator would see.

Asked of the running tier after the post-deploy checks passed: HAProxy's exporter and the VRRP
file answer from an allowed address (the LB's own, inside the VPC) and are refused from the
controller (outside `metrics.cidrs`); a request through the frontend is logged to the journal
with its ID. Then one failover: HAProxy stopped on the first EIP's owner, the EIP's new MASTER
must report the instance MASTER and a successful claim (with its duration) at /metrics/vrrp;
HAProxy started again, the owner must report the same once it has taken the EIP back, so the
fault matrix starts from the tier the deploy built.
"""

from __future__ import annotations

import re
import subprocess
import time
from typing import TYPE_CHECKING

from hacompile.lab.booted.checks import Result, answering_url
from hacompile.lab.hosts import in_netns

if TYPE_CHECKING:
    from hacompile.lab.booted.lab import BootedLab

# The default unique-id-format: %{+X}o %ci:%cp_%fi:%fp_%Ts_%rt:%pid, hexadecimal.
_HEX = "[0-9A-F]"
_REQUEST_ID = re.compile(
    rf"{_HEX}{{8}}:{_HEX}{{4}}_{_HEX}{{8}}:{_HEX}{{4}}_{_HEX}{{8}}_{_HEX}{{4}}:{_HEX}+"
)


def _curl(cmd: list[str], run: subprocess.CompletedProcess[str] | None = None) -> tuple[int, str]:
    """HTTP status and body of a `curl -s -w` command's result."""
    done = run or subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    body, _, status = done.stdout.rpartition("\n")
    return (int(status) if status.isdigit() else 0), body


def _get(lab: BootedLab, host: str, url: str) -> tuple[int, str]:
    """GET from inside `host` (its own addresses as source)."""
    cmd = ["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", url]
    return _curl(cmd, lab.machines[host].run(*cmd, check=False))


# The booted image has no curl (the demo backend role installs none); its Python does.
_PY_GET = """import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
sys.stdout.write(body.decode() + "\\n" + str(status))
"""


def _python_get(lab: BootedLab, host: str, url: str) -> tuple[int, str]:
    """GET from inside a host without curl."""
    return _curl([], lab.machines[host].run("python3", "-c", _PY_GET, url, check=False))


def _sample(body: str, name: str, **labels: str) -> str:
    """The value of one sample in a Prometheus text body ('' if absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in body.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return line.rsplit(" ", 1)[1]
    return ""


def _took(body: str, instance: str) -> str:
    labels = {"vrrp_instance": instance, "trigger": "notify"}
    return _sample(body, "hacompile_eip_claim_duration_seconds", **labels) or "?"


def checks(lab: BootedLab) -> list[Result]:
    obs = lab.plan.observability
    region = lab.plan.regions[lab.region_index]
    out: list[Result] = []
    port = obs.metrics_port
    # A scraper inside the VPC: a demo backend when the lab has one (another host, as
    # Prometheus would be), else the LB's own address.
    scraper = next((b for b in lab.topo.backends if b.name in lab.machines), None)
    for lb in region.load_balancers:
        base = f"http://{lb.private_ip}:{port}"
        if scraper:
            status, body = _python_get(lab, scraper.name, f"{base}/metrics")
            source = f"{scraper.name} {scraper.ip}"
        else:
            status, body = _get(lab, lb.key, f"{base}/metrics")
            source = f"its own address {lb.private_ip}"
        out.append(
            Result(
                f"{lb.key}: /metrics answers {source} (inside metrics.cidrs)",
                status == 200 and "haproxy_process_" in body,
                f"HTTP {status}, {body.count(chr(10))} lines",
            )
        )
        ctl = in_netns(
            lab.topo.ns("ctl"),
            ["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", f"{base}/metrics"],
        )
        status, _ = _curl(ctl)
        out.append(
            Result(
                f"{lb.key}: /metrics refused from the controller (outside metrics.cidrs)",
                status == 403,
                f"HTTP {status}",
            )
        )
        status, body = _get(lab, lb.key, f"{base}/metrics/vrrp")
        owned = [i.name for i in lb.instances if i.master]
        ok = all(
            _sample(body, "hacompile_vrrp_state", vrrp_instance=i, state="MASTER") == "1"
            and _sample(body, "hacompile_eip_claim_success", vrrp_instance=i, trigger="notify")
            == "1"
            for i in owned
        )
        out.append(
            Result(
                f"{lb.key}: /metrics/vrrp shows MASTER and a successful claim of "
                f"{', '.join(owned)}",
                status == 200 and ok,
                f"HTTP {status}: " + "; ".join(f"{i} claim took {_took(body, i)}s" for i in owned),
            )
        )
    if lab.plan.observability.request_id_header:
        out.append(_request_id(lab))
    out += _failover(lab)
    return out


def _request_id(lab: BootedLab) -> Result:
    region = lab.plan.regions[lab.region_index]
    lb = region.load_balancers[0]
    # -k: the certificate is not the point here (tls_checks); HTTP/1.1 for the log line's form
    cmd = ["curl", "-sk", "--http1.1", "--max-time", "5", answering_url(lab, lb.private_ip)]
    lab.machines[lb.key].run(*cmd, check=False)
    line = ""
    for _ in range(10):
        journal = (
            lab.machines[lb.key]
            .run("journalctl", "-t", "haproxy", "-o", "cat", "--no-pager", "-n", "20", check=False)
            .stdout
        )
        hits = [ln for ln in journal.splitlines() if '"GET / HTTP/1.1"' in ln]
        if hits:
            line = hits[-1]
            break
        time.sleep(0.5)
    return Result(
        f"{lb.key}: HTTP request logged to the journal with a request ID",
        bool(_REQUEST_ID.search(line.rsplit(" ", 1)[-1] if line else "")),
        line[-160:] or "no log line",
    )


def _wait_master(lab: BootedLab, host: str, instance: str, since: float, timeout: float) -> str:
    """Poll `host`'s /metrics/vrrp until `instance` is MASTER there with a successful claim
    that ended after `since`; the claim's duration, or '' on timeout."""
    lb = next(x for x in lab.plan.regions[lab.region_index].load_balancers if x.key == host)
    url = f"http://{lb.private_ip}:{lab.plan.observability.metrics_port}/metrics/vrrp"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = _get(lab, host, url)
        labels = {"vrrp_instance": instance, "trigger": "notify"}
        ended = _sample(body, "hacompile_eip_claim_timestamp_seconds", **labels)
        if (
            _sample(body, "hacompile_vrrp_state", vrrp_instance=instance, state="MASTER") == "1"
            and _sample(body, "hacompile_eip_claim_success", **labels) == "1"
            and ended
            and float(ended) >= since
        ):
            return _sample(body, "hacompile_eip_claim_duration_seconds", **labels)
        time.sleep(0.5)
    return ""


def _failover(lab: BootedLab) -> list[Result]:
    region = lab.plan.regions[lab.region_index]
    eip = region.eips[0]
    owner = lab.machines[eip.master]
    peer = next(
        lb.key
        for lb in sorted(
            region.load_balancers,
            key=lambda x: -next(i.priority for i in x.instances if i.name == eip.key),
        )
        if lb.key != eip.master
    )
    since = time.time()
    owner.systemctl("stop", owner.haproxy_service)
    took = _wait_master(lab, peer, eip.key, since, 60)
    out = [
        Result(
            f"{eip.key}: after HAProxy stopped on {eip.master}, {peer}'s /metrics/vrrp shows "
            "it MASTER with a successful claim",
            bool(took),
            f"claim took {took}s" if took else "not within 60s",
        )
    ]
    since = time.time()
    owner.systemctl("start", owner.haproxy_service)
    back = _wait_master(lab, eip.master, eip.key, since, lab.plan.keepalived.preempt_delay + 60)
    out.append(
        Result(
            f"{eip.key}: back on {eip.master} after HAProxy started, reported by its /metrics/vrrp",
            bool(back),
            f"claim took {back}s" if back else "not in time",
        )
    )
    return out
