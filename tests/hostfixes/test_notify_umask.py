"""hacompile-vrrp-notify must work as keepalived runs it: an unprivileged script user, umask 0177.

Found by the booted-host lab: keepalived runs notify scripts with umask 0177, so the state
directory the script made with `mkdir -p` was mode 0600 (no search bit), the next write failed
with "Permission denied" under `set -e`, and no EIP was ever claimed after a real deploy. The
namespace lab never saw it: its keepalived inherited the lab's umask.

Runs the real script as `nobody` in a private mount namespace whose /usr/local/sbin holds a
fake claim (the script sets its own PATH), so nothing on this machine is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTIFY = REPO / "templates" / "ansible" / "roles" / "keepalived" / "files" / "hacompile-vrrp-notify"
NOBODY = 65534

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        os.geteuid() != 0 or not shutil.which("setpriv"),
        reason="needs root (mount namespace) and setpriv",
    ),
]


@pytest.fixture
def box() -> Iterator[Path]:
    top = Path(tempfile.mkdtemp(prefix="hacompile-umask-"))
    try:
        top.chmod(0o755)
        (top / "sbin").mkdir()
        (top / "run").mkdir()
        os.chown(top / "run", NOBODY, NOBODY)
        fake = top / "sbin" / "hacompile-eip-claim"
        fake.write_text(f'#!/bin/sh\necho "$1" >>{top / "run" / "claimed"}\n')
        fake.chmod(0o755)
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _notify(box: Path, *args: str) -> subprocess.CompletedProcess[str]:
    inner = (
        f"mount --bind {box / 'sbin'} /usr/local/sbin && exec setpriv --reuid={NOBODY} "
        f'--regid={NOBODY} --clear-groups sh -c \'umask 0177 && exec "$0" "$@"\' '
        f"{NOTIFY} {' '.join(args)}"
    )
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HACOMPILE_RUN_DIR": str(box / "run")}
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", inner],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_master_under_keepalived_umask_claims_and_records(box: Path) -> None:
    done = _notify(box, "eip1", "MASTER")
    assert done.returncode == 0, done.stderr
    assert (box / "run" / "claimed").read_text() == "eip1\n"
    state = box / "run" / "state"
    assert (state / "eip1").read_text() == "MASTER\n"
    assert not (state / "eip1.pending").exists()
    # Searchable, and readable by operators and checks (no secret in a VRRP state).
    assert state.stat().st_mode & 0o777 == 0o755
    assert (state / "eip1").stat().st_mode & 0o777 == 0o644
    again = _notify(box, "eip1", "BACKUP")
    assert again.returncode == 0, again.stderr
    assert (state / "eip1").read_text() == "BACKUP\n"
