"""hacompile-eip-reconcile leaves an instance alone while a claim of it is still running.

Why: the notify hook marks an instance "pending" before its claim and clears the mark after
success, so a reconcile run during that claim saw a failed one and claimed again beside it. In
a split brain the second claim of the non-owner took a route VIP back after the owner's
reconcile had taken it home (the lab's route-VIP matrix: one extra round trip, the address on
the non-owner until the owner's next reconcile)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECONCILE = (
    REPO / "templates" / "ansible" / "roles" / "keepalived" / "files" / "hacompile-eip-reconcile"
)


def _setup(tmp_path: Path) -> tuple[dict[str, str], Path]:
    eip_dir, run_dir, stubs = tmp_path / "eip", tmp_path / "run", tmp_path / "stubs"
    for d in (eip_dir, run_dir / "state", stubs):
        d.mkdir(parents=True)
    (eip_dir / "api.env").write_text("STRATEGY='route'\nOWNER='no'\n", encoding="utf-8")
    (run_dir / "state" / "api").write_text("MASTER\n", encoding="utf-8")
    (run_dir / "state" / "api.pending").touch()
    calls = tmp_path / "calls"
    claim = stubs / "hacompile-eip-claim"
    claim.write_text(f'#!/bin/sh\necho "$1" >>{calls}\n', encoding="utf-8")
    claim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{stubs}:/usr/bin:/bin",
        "HACOMPILE_EIP_DIR": str(eip_dir),
        "HACOMPILE_RUN_DIR": str(run_dir),
    }
    return env, calls


def _reconcile(env: dict[str, str]) -> None:
    # The script sets its own PATH; the stub directory must come first there too.
    text = RECONCILE.read_text(encoding="utf-8").replace(
        "PATH=/usr/local/sbin", f"PATH={env['PATH'].split(':')[0]}:/usr/local/sbin", 1
    )
    subprocess.run(["sh", "-c", text, "hacompile-eip-reconcile"], env=env, check=True, timeout=30)


def test_a_claim_in_flight_is_not_claimed_again(tmp_path: Path) -> None:
    env, calls = _setup(tmp_path)
    # A claim of api still running, as the notify hook's would be (same command line).
    inflight = tmp_path / "inflight" / "hacompile-eip-claim"
    inflight.parent.mkdir()
    inflight.write_text("#!/bin/sh\nsleep 30\n", encoding="utf-8")
    inflight.chmod(0o755)
    proc = subprocess.Popen([str(inflight), "api"])
    try:
        time.sleep(0.2)
        _reconcile(env)
        assert not calls.exists(), "claimed api again while its claim was running"
    finally:
        proc.kill()
        proc.wait(timeout=5)
    _reconcile(env)  # no claim running: a pending instance is claimed again
    assert calls.read_text(encoding="utf-8").split() == ["api"]
