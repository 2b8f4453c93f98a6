"""The node's maintenance tools: hacompile-maintenance (the flag Keepalived's check watches) and
hacompile-haproxy-sessions (what maintenance.yml drains by), run as they are in the bundle, the
latter against a real HAProxy on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROLES = Path(__file__).resolve().parents[2] / "templates" / "ansible" / "roles"
MAINTENANCE = ROLES / "keepalived" / "files" / "hacompile-maintenance"
SESSIONS = ROLES / "haproxy" / "files" / "hacompile-haproxy-sessions"


def _maint(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HACOMPILE_MAINTENANCE_FILE": str(tmp / "etc" / "maintenance"),
        "HACOMPILE_STATE_DIR": str(tmp / "state"),
    }
    return subprocess.run(
        [str(MAINTENANCE), *args], env=env, capture_output=True, text=True, timeout=30
    )


def test_maintenance_on_status_off(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "eip1").write_text("MASTER\n")
    (tmp_path / "state" / "eip1.lock").write_text("")
    flag = tmp_path / "etc" / "maintenance"
    assert _maint(tmp_path, "status").returncode == 0
    on = _maint(tmp_path, "on", "kernel", "upgrade")
    assert on.returncode == 0, on.stderr
    assert flag.is_file() and flag.stat().st_mode & 0o777 == 0o644
    assert "reason=kernel upgrade" in flag.read_text()
    status = _maint(tmp_path, "status")
    assert status.returncode == 1  # in maintenance
    assert "in maintenance" in status.stdout and "eip1: MASTER" in status.stdout
    assert "eip1.lock" not in status.stdout
    assert _maint(tmp_path, "off").returncode == 0
    assert not flag.exists()
    assert _maint(tmp_path, "off").returncode == 0  # idempotent


def test_maintenance_usage_and_rights(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    assert _maint(tmp_path).returncode == 64
    assert _maint(tmp_path, "sideways").returncode == 64
    assert _maint(tmp_path, "off", "extra").returncode == 64
    (tmp_path / "etc").chmod(0o555)
    try:
        if os.geteuid() != 0:  # root writes anyway
            assert _maint(tmp_path, "on").returncode == 77
    finally:
        (tmp_path / "etc").chmod(0o755)


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A real HAProxy on loopback: frontend `web` on a free port, a stats frontend, an admin
    socket in tmp_path; stopped by its PID when the test ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        stats = s.getsockname()[1]
    sock = tmp_path / "admin.sock"
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(
        f"global\n    stats socket {sock} mode 600 level admin\n"
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 30s\n"
        "    timeout server 30s\n"
        f"frontend web\n    bind 127.0.0.1:{port}\n"
        "    http-request return status 200 content-type text/plain string ok\n"
        f"frontend stats\n    bind 127.0.0.1:{stats}\n    stats enable\n"
    )
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)])
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sock.exists(), "haproxy did not start"
        yield sock, port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _sessions(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SESSIONS), *args], capture_output=True, text=True, timeout=30)


@pytest.mark.tools
def test_sessions_counts_the_service_frontends(haproxy: tuple[Path, int]) -> None:
    sock, port = haproxy
    assert _sessions(str(sock)).stdout.strip() == "0"
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        time.sleep(0.3)
        assert _sessions(str(sock)).stdout.strip() == "3"
        assert _sessions(str(sock), "web").stdout.strip() == "3"
        assert _sessions(str(sock), "stats").stdout.strip() == "0"
    finally:
        for c in clients:
            c.close()


@pytest.mark.tools
def test_sessions_wait_ends_when_drained_or_at_the_bound(haproxy: tuple[Path, int]) -> None:
    sock, port = haproxy
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    timer = threading.Timer(1.0, lambda: [c.close() for c in clients])
    timer.start()
    started = time.monotonic()
    drained = _sessions("--wait", "20", str(sock))
    took = time.monotonic() - started
    timer.join()
    assert drained.returncode == 0 and drained.stdout.strip() == "0"
    assert took < 15  # ended on the drain, not on the bound
    held = socket.create_connection(("127.0.0.1", port))
    try:
        time.sleep(0.3)
        left = _sessions("--wait", "1", str(sock))
        assert left.returncode == 0 and left.stdout.strip() == "1"  # the play decides
    finally:
        held.close()


def test_sessions_says_when_the_api_is_down(tmp_path: Path) -> None:
    down = _sessions(str(tmp_path / "none.sock"))
    assert down.returncode == 1 and "none.sock" in down.stderr
    assert _sessions().returncode == 64
    assert _sessions("--wait", "soon", "x").returncode == 64
