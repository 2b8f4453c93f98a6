"""hacompile-vrrp-notify acts on Keepalived's events in the order Keepalived forked them.

Why: Keepalived forks one notify process per state change and waits for none, so MASTER and a
BACKUP a few milliseconds later can run in the other order. Before the fix the late-running
MASTER recorded MASTER and claimed the address on a node that was BACKUP (issue 16; the busy
family's review). A MASTER started first but stopped before it ran stands in for a scheduler
that ran it last: its PID and start time stay those of the earlier fork.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTIFY = REPO / "templates" / "ansible" / "roles" / "keepalived" / "files" / "hacompile-vrrp-notify"
INSTANCE = "eip_1"


def _rig(tmp_path: Path, claim_body: str) -> tuple[Path, dict[str, str], Path]:
    """A notify copy whose PATH finds a stub claim first; the stub logs its runs."""
    stubs, run_dir = tmp_path / "stubs", tmp_path / "run"
    stubs.mkdir()
    calls = tmp_path / "calls"
    claim = stubs / "hacompile-eip-claim"
    claim.write_text(f'#!/bin/sh\necho "$1" >>{calls}\n{claim_body}\n', encoding="utf-8")
    claim.chmod(0o755)
    notify = tmp_path / "hacompile-vrrp-notify"
    text = NOTIFY.read_text(encoding="utf-8")
    notify.write_text(text.replace("PATH=/usr/local/sbin", f"PATH={stubs}:/usr/local/sbin", 1))
    notify.chmod(0o755)
    env = {**os.environ, "HACOMPILE_RUN_DIR": str(run_dir), "HACOMPILE_EIP_STDERR": "1"}
    return notify, env, calls


def _state(tmp_path: Path) -> str:
    return (tmp_path / "run" / "state" / INSTANCE).read_text(encoding="utf-8").strip()


def test_a_master_event_that_runs_after_a_later_backup_is_ignored(tmp_path: Path) -> None:
    notify, env, calls = _rig(tmp_path, "exit 0")
    # Forked first, run last: stopped before the script starts; exec keeps PID and start time.
    early = subprocess.Popen(
        ["sh", "-c", f'kill -STOP $$; exec "{notify}" {INSTANCE} MASTER'],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while Path(f"/proc/{early.pid}/stat").read_text().split(") ")[1][0] != "T":
            assert time.monotonic() < deadline, "the early MASTER never stopped"
            time.sleep(0.01)
        subprocess.run([str(notify), INSTANCE, "BACKUP"], env=env, check=True, timeout=30)
        assert _state(tmp_path) == "BACKUP"
        os.kill(early.pid, signal.SIGCONT)
        _, err = early.communicate(timeout=30)
    finally:
        if early.poll() is None:
            early.kill()
            early.wait(timeout=10)
    assert early.returncode == 0, err
    assert "MASTER arrived after a later event; ignored" in err
    assert _state(tmp_path) == "BACKUP"
    assert not calls.exists(), "the stale MASTER event claimed the address"
    assert not (tmp_path / "run" / "state" / f"{INSTANCE}.pending").exists()

    # Events in order still act: MASTER now (a later fork) records and claims.
    subprocess.run([str(notify), INSTANCE, "MASTER"], env=env, check=True, timeout=30)
    assert _state(tmp_path) == "MASTER"
    assert calls.read_text(encoding="utf-8").split() == [INSTANCE]
    assert not (tmp_path / "run" / "state" / f"{INSTANCE}.claim").exists()


def test_backup_stops_the_claim_its_master_event_started(tmp_path: Path) -> None:
    """The claim is known by the PID the MASTER event recorded, whatever it runs meanwhile
    (here it has exec'd `sleep`, which `pgrep hacompile-eip-claim` cannot find)."""
    notify, env, calls = _rig(tmp_path, "exec sleep 60")
    master = subprocess.Popen(
        [str(notify), INSTANCE, "MASTER"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 10
        while not calls.exists():
            assert time.monotonic() < deadline, "the claim never started"
            time.sleep(0.02)
        time.sleep(0.1)
        backup = subprocess.run(
            [str(notify), INSTANCE, "BACKUP"],
            env=env,
            check=True,
            timeout=30,
            capture_output=True,
            text=True,
        )
        _, err = master.communicate(timeout=15)
    finally:
        if master.poll() is None:
            master.kill()
            master.wait(timeout=10)
    assert "stopped the claim started by the last MASTER event" in backup.stderr
    assert "claim failed or stopped" in err
    assert _state(tmp_path) == "BACKUP"
    assert not (tmp_path / "run" / "state" / f"{INSTANCE}.pending").exists()
