"""hacompile-vrrp-notify: leaving MASTER stops a claim of that instance that is still retrying.

Found by the lab (api-throttled on the 3-LB blueprint): a claim started while MASTER kept
retrying through throttling after the node had gone to FAULT, then landed and pulled the EIP
onto the failed node. The instance name is unique so no other claim on this machine matches.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTIFY = REPO / "templates" / "ansible" / "roles" / "keepalived" / "files" / "hacompile-vrrp-notify"


def _claim(tmp: Path, instance: str) -> subprocess.Popen[bytes]:
    fake = tmp / "sbin" / "hacompile-eip-claim"
    if not fake.exists():  # written once: rewriting it could race a shell reading it
        fake.parent.mkdir(exist_ok=True)
        fake.write_text("#!/bin/sh\nsleep 60\n")
        fake.chmod(0o755)
    return subprocess.Popen([str(fake), instance], start_new_session=True)


def _notify(tmp: Path, instance: str, state: str) -> None:
    env = {**os.environ, "HACOMPILE_RUN_DIR": str(tmp / "run")}
    subprocess.run([str(NOTIFY), instance, state], env=env, check=True, timeout=30)


def test_backup_and_fault_stop_an_inflight_claim(tmp_path: Path) -> None:
    instance = f"eipt{os.getpid()}"
    for state in ("BACKUP", "FAULT", "STOP"):
        claim = _claim(tmp_path, instance)
        other = _claim(tmp_path, instance + "x")  # another instance: must survive
        try:
            time.sleep(0.2)
            _notify(tmp_path, instance, state)
            assert claim.wait(timeout=10) != 0, state
            assert other.poll() is None, state
            assert (tmp_path / "run" / "state" / instance).read_text().strip() == state
        finally:
            for proc in (claim, other):
                if proc.poll() is None:
                    proc.kill()
                proc.wait(timeout=10)
