"""hacompile-vrrp-metrics: the VRRP states and EIP claims Prometheus scrapes at /metrics/vrrp.

The render test reads a state directory as the notify hook leaves it and checks the text
format (each family's HELP and TYPE once, before its samples; every sample labelled with the
VRRP instance, never `instance`, which Prometheus sets to the target). The notify tests run the
real hook as keepalived does (an unprivileged user, umask 0177) in a private mount namespace
whose /usr/local/sbin holds a fake claim and the real metrics script, so nothing on this
machine is touched; they need root.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FILES = REPO / "templates" / "ansible" / "roles" / "keepalived" / "files"
METRICS = FILES / "hacompile-vrrp-metrics"
NOTIFY = FILES / "hacompile-vrrp-notify"
RECONCILE = FILES / "hacompile-eip-reconcile"
NOBODY = 65534
_SAMPLE = re.compile(r'^([a-z_]+)\{vrrp_instance="[a-z0-9_]+"(,[a-z_]+="[A-Za-z]+")*\} [0-9.]+$')


def parse(text: str) -> dict[str, str]:
    """Samples by `name{labels}`, after checking the text format's grouping rules."""
    seen: list[str] = []
    samples: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("# HELP "):
            current = line.split()[2]
            assert current not in seen, f"{current} appears twice"
            seen.append(current)
        elif line.startswith("# TYPE "):
            assert line == f"# TYPE {current} gauge"
        else:
            m = _SAMPLE.match(line)
            assert m, f"not a sample: {line!r}"
            assert m[1] == current, f"{m[1]} outside its family"
            key, value = line.rsplit(" ", 1)
            samples[key] = value
    return samples


def _render(run: Path) -> str:
    env = {"PATH": "/usr/bin:/bin", "HACOMPILE_RUN_DIR": str(run)}
    subprocess.run([str(METRICS), "render"], env=env, check=True, timeout=30)
    return (run / "metrics" / "vrrp.prom").read_text()


def test_render_reports_states_pending_and_claims(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "eip1").write_text("MASTER\n")
    (state / "eip2").write_text("BACKUP\n")
    (state / "eip2.pending").write_text("")
    (state / "eip1.claim-notify").write_text("0 1234 1700000000123\n")
    (state / "eip1.claim-reconcile").write_text("75 60010 1700000100000\n")
    (state / "eip1.tmp").write_text("FAULT\n")  # a write in progress: not an instance
    (tmp_path / "hold").write_text("0\n")
    got = parse(_render(tmp_path))
    assert got['hacompile_vrrp_state{vrrp_instance="eip1",state="MASTER"}'] == "1"
    assert got['hacompile_vrrp_state{vrrp_instance="eip1",state="BACKUP"}'] == "0"
    assert got['hacompile_vrrp_state{vrrp_instance="eip2",state="BACKUP"}'] == "1"
    assert got['hacompile_eip_claim_pending{vrrp_instance="eip2"}'] == "1"
    assert got['hacompile_eip_claim_pending{vrrp_instance="eip1"}'] == "0"
    notify = 'vrrp_instance="eip1",trigger="notify"'
    reconcile = 'vrrp_instance="eip1",trigger="reconcile"'
    assert got[f"hacompile_eip_claim_exit_code{{{notify}}}"] == "0"
    assert got[f"hacompile_eip_claim_success{{{notify}}}"] == "1"
    assert got[f"hacompile_eip_claim_duration_seconds{{{notify}}}"] == "1.234"
    assert got[f"hacompile_eip_claim_timestamp_seconds{{{notify}}}"] == "1700000000.123"
    assert got[f"hacompile_eip_claim_exit_code{{{reconcile}}}"] == "75"
    assert got[f"hacompile_eip_claim_success{{{reconcile}}}"] == "0"
    assert got[f"hacompile_eip_claim_duration_seconds{{{reconcile}}}"] == "60.010"
    assert not any('"eip1.tmp"' in k or ("eip2" in k and "claim_exit" in k) for k in got)
    assert not list((tmp_path / "metrics").glob(".vrrp.prom.*")), "temporary file left"
    assert (tmp_path / "metrics" / "vrrp.prom").stat().st_mode & 0o777 == 0o644


def test_render_with_no_state_is_an_empty_but_valid_file(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    text = _render(tmp_path)
    assert parse(text) == {}
    assert "# TYPE hacompile_vrrp_state gauge" in text


root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root (mount namespace)"
)


@pytest.fixture
def box() -> Iterator[Path]:
    top = Path(tempfile.mkdtemp(prefix="hacompile-metrics-"))
    try:
        top.chmod(0o755)
        for d in ("sbin", "run", "eip"):
            (top / d).mkdir()
        os.chown(top / "run", NOBODY, NOBODY)
        shutil.copy(METRICS, top / "sbin" / METRICS.name)
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _fake_claim(box: Path, rc: int) -> None:
    fake = box / "sbin" / "hacompile-eip-claim"
    fake.write_text(f"#!/bin/sh\nsleep 0.3\nexit {rc}\n")
    fake.chmod(0o755)


def _as_keepalived(box: Path, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    inner = (
        f"mount --bind {box / 'sbin'} /usr/local/sbin && exec setpriv --reuid={NOBODY} "
        f'--regid={NOBODY} --clear-groups sh -c \'umask 0177 && exec "$0" "$@"\' '
        f"{script} {' '.join(args)}"
    )
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HACOMPILE_RUN_DIR": str(box / "run"),
        "HACOMPILE_EIP_DIR": str(box / "eip"),
    }
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", inner],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _metrics(box: Path) -> dict[str, str]:
    return parse((box / "run" / "metrics" / "vrrp.prom").read_text())


@pytest.mark.root
@root
def test_notify_times_and_records_each_claim(box: Path) -> None:
    _fake_claim(box, 0)
    done = _as_keepalived(box, NOTIFY, "eip1", "MASTER")
    assert done.returncode == 0, done.stderr
    got = _metrics(box)
    notify = 'vrrp_instance="eip1",trigger="notify"'
    assert got['hacompile_vrrp_state{vrrp_instance="eip1",state="MASTER"}'] == "1"
    assert got['hacompile_eip_claim_pending{vrrp_instance="eip1"}'] == "0"
    assert got[f"hacompile_eip_claim_success{{{notify}}}"] == "1"
    assert 0.3 <= float(got[f"hacompile_eip_claim_duration_seconds{{{notify}}}"]) < 5
    prom = box / "run" / "metrics" / "vrrp.prom"
    assert prom.stat().st_mode & 0o777 == 0o644  # HAProxy's user reads it, umask 0177 or not

    _fake_claim(box, 75)
    done = _as_keepalived(box, NOTIFY, "eip1", "MASTER_RX_LOWER_PRI")
    assert done.returncode == 0, done.stderr
    got = _metrics(box)
    assert got[f"hacompile_eip_claim_exit_code{{{notify}}}"] == "75"
    assert got[f"hacompile_eip_claim_success{{{notify}}}"] == "0"
    assert got['hacompile_eip_claim_pending{vrrp_instance="eip1"}'] == "1"

    # The reconcile timer retries the pending claim; its result has its own trigger label.
    (box / "eip" / "eip1.env").write_text("OWNER='yes'\n")
    _fake_claim(box, 0)
    done = _as_keepalived(box, RECONCILE)
    assert done.returncode == 0, done.stderr
    got = _metrics(box)
    assert got['hacompile_eip_claim_success{vrrp_instance="eip1",trigger="reconcile"}'] == "1"
    assert got['hacompile_eip_claim_pending{vrrp_instance="eip1"}'] == "0"
    assert got[f"hacompile_eip_claim_exit_code{{{notify}}}"] == "75"  # still the last notify

    done = _as_keepalived(box, NOTIFY, "eip1", "FAULT")
    assert done.returncode == 0, done.stderr
    got = _metrics(box)
    assert got['hacompile_vrrp_state{vrrp_instance="eip1",state="FAULT"}'] == "1"
    assert got['hacompile_vrrp_state{vrrp_instance="eip1",state="MASTER"}'] == "0"


@pytest.mark.root
@root
def test_without_the_metrics_script_notify_claims_as_before(box: Path) -> None:
    (box / "sbin" / METRICS.name).unlink()
    _fake_claim(box, 0)
    done = _as_keepalived(box, NOTIFY, "eip1", "MASTER")
    assert done.returncode == 0, done.stderr
    assert (box / "run" / "state" / "eip1").read_text() == "MASTER\n"
    assert not (box / "run" / "state" / "eip1.pending").exists()
    assert not (box / "run" / "metrics").exists()
