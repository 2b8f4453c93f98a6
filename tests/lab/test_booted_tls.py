"""HTTPS on booted hosts: the https-pools blueprint deployed by its own playbook, its
certificates from the lab's CA in the emulated Secrets Manager and SSM, then three scenarios on
that one running tier, in order:

- failover: HAProxy stopped on eip1's owner; once the EIP moved, the new master serves the same
  certificates through it (every LB holds them, not just the one that fetched first);
- rotation: a new leaf (new key) for `www` stored while the client's steady HTTPS traffic runs;
  within `tls.refresh` plus a margin every LB (directly, by its own address) and every EIP
  serves it, and no request failed;
- corrupt version: a version whose key is not its certificate's; after `tls.refresh` plus a
  margin every LB still serves the previous one, /metrics/tls says `sync_ok 0` and counts the
  rejection, and the journal names it.

Every wait is bounded; the lab is torn down by its prefix, also when a step fails. Figures
(requests sent and failed, seconds until every LB served the new version) are printed
(`pytest -rA`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hacompile.lab import netns
from hacompile.lab.booted import tls
from hacompile.lab.booted.lab import BootedLab
from hacompile.lab.booted.tls_checks import serving, tls_sample
from hacompile.lab.compile import compile_for_lab
from hacompile.lab.observe import Observer
from hacompile.lab.topology import LAB_ROOT, new_prefix
from hacompile.spec.types import duration_ms

pytestmark = [pytest.mark.lab, pytest.mark.root, pytest.mark.tools]

SPEC = Path(__file__).resolve().parents[2] / "blueprints" / "https-pools.yaml"
MARGIN_S = 60  # beyond tls.refresh: a timer's accuracy, the fetch, validation and reload
FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="module")
def lab(booted_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BootedLab]:
    build = compile_for_lab(SPEC, tmp_path_factory.mktemp("bundle") / "bundle")
    prefix = new_prefix()
    booted = BootedLab(build.plan, build.bundle_dir, 0, prefix=prefix)
    try:
        with booted:
            yield booted
    finally:
        booted.close()
        netns.destroy(prefix)
        shutil.rmtree(LAB_ROOT / prefix, ignore_errors=True)
        print(f"\nfigures: {FIGURES}")
    assert netns.lab_namespaces(prefix) == []


def _refresh_s(lab: BootedLab) -> float:
    return duration_ms(lab.plan.tls.refresh) / 1000


def _www(lab: BootedLab) -> Any:
    return next(c for c in tls.certificates(lab.plan) if c.name == "www")


def _wait_owner(obs: Observer, eip: str, want: str | None, avoid: str, timeout: float) -> str:
    """Poll the cloud's association until `eip` is on `want` (or, None, on anything but
    `avoid`); the holder, or '' on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = obs.mapping().get(eip, "")
        if (held == want) if want else (held and held != avoid):
            return held
        time.sleep(0.25)
    return ""


def _probe_window(obs: Observer, start: float, end: float) -> list[dict[str, Any]]:
    return [r for r in obs.probes.poll() if start <= float(r["t"]) <= end]


def test_deploy_serves_https_as_the_spec_says(lab: BootedLab) -> None:
    assert lab.deployment is not None
    assert lab.deployment.converge.returncode == 0
    assert lab.deployment.idempotence.changed == 0
    for r in lab.checks:
        print(("ok   " if r.ok else "FAIL ") + f"{r.name}: {r.detail}")
    failed = [r for r in lab.checks if not r.ok]
    assert failed == []
    names = [r.name for r in lab.checks]
    # 2 EIPs x (3 routes + 1 request no route names), each answered by its pool
    assert len([n for n in names if "https://" in n and " -> pool " in n]) == 8
    assert len([n for n in names if "negotiates HTTP/2" in n]) == 2
    assert len([n for n in names if "Strict-Transport-Security" in n]) == 2
    assert len([n for n in names if n.startswith("SNI ")]) == 3  # www, api, probe.cdn
    assert len([n for n in names if "-> 301 https://" in n]) == 4
    assert len([n for n in names if tls.METRICS_PATH in n]) == 4
    FIGURES["checks"] = len(lab.checks)


def test_the_new_master_serves_the_same_certificates(lab: BootedLab) -> None:
    assert lab.tls is not None
    obs = lab.observer()
    region = lab.plan.regions[lab.region_index]
    eip = region.eips[0]
    owner = lab.machines[eip.master]
    address = next(e.address for e in lab.topo.eips if e.key == eip.key)
    names = [(c.name, n) for c in tls.certificates(lab.plan) for n in c.names]
    started = time.monotonic()
    owner.systemctl("stop", owner.haproxy_service)
    try:
        holder = _wait_owner(obs, eip.key, None, eip.master, 60)
        assert holder, f"{eip.key} did not move off {eip.master} within 60s"
        FIGURES["failover_moved_s"] = round(time.monotonic() - started, 2)
        got = tls.fetch(
            lab, [{"url": f"https://{address}/", "sni": tls.probe_name(n)} for _, n in names]
        )
        for (cert, name), answer in zip(names, got, strict=True):
            assert answer["sha256"] == lab.tls.stored[cert], (holder, name, answer)
            assert answer["status"] == 200, (holder, name, answer)
    finally:
        owner.systemctl("start", owner.haproxy_service)
    back = _wait_owner(obs, eip.key, eip.master, "", lab.plan.keepalived.preempt_delay + 60)
    assert back == eip.master, f"{eip.key} not back on {eip.master}"


def test_a_rotation_reaches_every_lb_without_a_failed_request(lab: BootedLab) -> None:
    assert lab.tls is not None
    obs = lab.observer()
    cert = _www(lab)
    new = lab.tls.ca.issue(cert.names)
    time.sleep(3)  # the probe's view of a settled tier before the change
    t0 = time.time()
    tls.store(lab, lab.tls, cert, new)
    took, last = tls.wait_served(lab, cert.names[0], new.sha256, _refresh_s(lab) + MARGIN_S)
    assert took >= 0, f"not every address serves the new version: {last}"
    lab.tls.stored[cert.name] = new.sha256
    time.sleep(3)  # answers still in flight
    rows = _probe_window(obs, t0, time.time() - 1.5)
    failed = [r for r in rows if not r["ok"]]
    FIGURES["rotation"] = {
        "all_served_new_s": round(took, 1),
        "requests": len(rows),
        "failed": len(failed),
        "addresses": sorted(last),
    }
    assert rows and len({r["eip"] for r in rows}) == len(lab.topo.eips)
    assert failed == [], failed[:5]
    # the client's own traffic saw the change: old, then only new, through every EIP
    for eip in lab.topo.eips:
        seen = [r["sha256"] for r in rows if r["eip"] == eip.key]
        assert new.sha256 in seen, eip.key
        assert set(seen[seen.index(new.sha256) :]) == {new.sha256}, eip.key


def test_a_corrupt_version_is_rejected_and_the_old_one_served(lab: BootedLab) -> None:
    assert lab.tls is not None
    obs = lab.observer()
    cert = _www(lab)
    served_before = lab.tls.stored[cert.name]
    bad = lab.tls.ca.issue(cert.names, wrong_key=True)
    t0 = time.time()
    tls.store(lab, lab.tls, cert, bad)
    region = lab.plan.regions[lab.region_index]
    pending = {lb.key for lb in region.load_balancers}
    bodies: dict[str, str] = {}
    deadline = time.monotonic() + _refresh_s(lab) + MARGIN_S
    while pending and time.monotonic() < deadline:
        for lb in sorted(pending):
            status, body = tls.sync_metrics(lab, lb)
            bodies[lb] = f"HTTP {status}\n{body}"
            rejected = tls_sample(body, "hacompile_tls_rejected_total", cert.name)
            if (
                tls_sample(body, "hacompile_tls_sync_ok", cert.name) == "0"
                and rejected
                and float(rejected) >= 1
            ):
                pending.discard(lb)
        time.sleep(2)
    FIGURES["corrupt_rejected_everywhere_s"] = round(time.time() - t0, 1)
    assert not pending, {lb: bodies[lb] for lb in pending}
    for lb, body in bodies.items():
        assert serving(body).get(cert.name) == served_before, (lb, body)
    got = tls.served(lab, cert.names[0])
    assert got == {k: served_before for k in got}, got
    for lb in sorted(bodies):
        text = tls.journal(lab, lb)
        hits = [ln for ln in text.splitlines() if "reject" in ln.lower() and cert.name in ln]
        assert hits, (lb, text[-800:])
        FIGURES.setdefault("journal", {})[lb] = hits[-1][:200]
    rows = _probe_window(obs, t0, time.time() - 1.5)
    FIGURES["corrupt"] = {"requests": len(rows), "failed": len([r for r in rows if not r["ok"]])}
    assert rows and all(r["ok"] and r["sha256"] == served_before for r in rows)
