"""Helpers for the script tests: a syslog sink, the EIP-claim rig and a network namespace.

Kept out of conftest.py (which holds only fixtures) so test modules can import the types.
"""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("hacompile") is None:  # not installed: use the checkout
    sys.path.insert(0, str(REPO))

from hacompile.standins.ec2fixture import Ec2Lab  # noqa: E402
from hacompile.standins.faultproxy import FaultProxy  # noqa: E402
from hacompile.standins.imds import ImdsStub  # noqa: E402

ROLES = REPO / "templates" / "ansible" / "roles"
EIP_CLAIM = ROLES / "keepalived" / "files" / "hacompile-eip-claim"
SECONDARY_IPS = ROLES / "secondary_ip" / "files" / "hacompile-secondary-ips"
TLS_SYNC = ROLES / "haproxy" / "files" / "hacompile-tls-sync"
INSTANCE = "eip_1"


class SyslogSink:
    """A unix datagram socket standing in for /dev/log, so tests can read what logger sent.

    A thread drains it all the time: Linux queues at most net.unix.max_dgram_qlen (10 by
    default) datagrams per socket and then blocks the sender, so a script logging more than
    that in one run (a claim retrying through throttling) would hang inside logger.
    """

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="hc-log-")  # short: sun_path is ~108 bytes
        self.path = os.path.join(self._dir, "log.sock")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._sock.settimeout(0.05)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._seen: list[str] = []
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._seen.append(data.decode("utf-8", "replace"))

    def messages(self) -> list[str]:
        with self._lock:
            return list(self._seen)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass(frozen=True)
class RunResult:
    rc: int
    stdout: str
    stderr: str
    elapsed: float
    log: tuple[str, ...]


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    path.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()), encoding="utf-8")
    path.chmod(0o644)


@dataclass
class ClaimRig:
    """Everything hacompile-eip-claim needs: config dir, run dir, IMDS, EC2 behind the proxy.

    The env file describes EIP 0 moving onto LB 0's slot 0.
    """

    lab: Ec2Lab
    proxy: FaultProxy
    imds: ImdsStub
    syslog: SyslogSink
    eip_dir: Path
    run_dir: Path
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def env_file(self) -> Path:
        return self.eip_dir / f"{INSTANCE}.env"

    def config(self, **extra: str) -> dict[str, str]:
        eni = self.lab.enis[0]
        values = {
            "REGION": self.lab.region,
            "ALLOCATION_ID": self.lab.eips[0].allocation_id,
            "PUBLIC_IP": self.lab.eips[0].public_ip,
            "ENI_ID": eni.eni_id,
            "PRIVATE_IP": eni.slots[0],
        }
        values.update(extra)
        return values

    def write_config(self, **extra: str) -> None:
        write_env_file(self.env_file, self.config(**extra))

    def run(
        self, args: Sequence[str] = (INSTANCE,), env: Mapping[str, str] | None = None
    ) -> RunResult:
        full_env = {**self.env, **(env or {})}
        start = time.monotonic()
        proc = subprocess.run(
            [str(EIP_CLAIM), *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        elapsed = time.monotonic() - start
        time.sleep(0.05)  # let the last datagrams land
        return RunResult(
            proc.returncode, proc.stdout, proc.stderr, elapsed, tuple(self.syslog.messages())
        )


@dataclass
class Netns:
    """A network namespace owned by one test; `procs` are killed before it is deleted."""

    name: str
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def run(
        self, *cmd: str, env: Mapping[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *cmd],
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ip(self, *args: str) -> str:
        proc = subprocess.run(
            ["ip", "-n", self.name, *args], capture_output=True, text=True, timeout=10, check=True
        )
        return proc.stdout

    def ipv4_addrs(self, dev: str) -> set[str]:
        out = self.ip("-o", "-4", "addr", "show", "dev", dev)
        return {line.split()[3] for line in out.splitlines() if " inet " in line}

    def start_imds(self, metadata: Mapping[str, str], workdir: Path) -> str:
        """Run the IMDS stub on 127.0.0.1 inside the namespace; returns its URL."""
        md_file = workdir / "imds.json"
        md_file.write_text(json.dumps(dict(metadata)), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-m", "hacompile.standins.imds", "--metadata", str(md_file)]
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.name, *cmd],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=15):
                raise TimeoutError("IMDS stub in namespace did not start within 15 s")
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            raise RuntimeError(f"IMDS stub failed to start: {line!r}")
        return line[1]


def stop_process(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
