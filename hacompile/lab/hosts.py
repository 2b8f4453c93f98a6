"""Lab hosts as processes: an LB (own PID + mount namespace) and the plain service daemons.

Why nsenter for every LB process: processes must live in the LB's PID namespace (so its process
checks see only its own HAProxy) and in its mount namespace (where the bind mounts put the
bundle's scripts at /usr/local/sbin), yet the lab must start and kill them one at a time to
inject faults. `nsenter -t INIT -n -m -p` does exactly that, and nsenter reaps what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import hacompile
from hacompile.lab.netns import LabError

PYTHONPATH = str(Path(hacompile.__file__).resolve().parent.parent)
MAX_SECONDS = 4 * 3600


def py_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "PYTHONPATH": PYTHONPATH,
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": "/root",
        "LANG": "C.UTF-8",
    }
    env.update(extra or {})
    return env


def spawn(
    cmd: Sequence[str], log: Path, env: Mapping[str, str], stdout_pipe: bool = False
) -> subprocess.Popen[str]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        return subprocess.Popen(
            list(cmd),
            stdout=subprocess.PIPE if stdout_pipe else fh,
            stderr=fh,
            env=dict(env),
            text=True,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def log_tails(*logs: Path, lines: int = 8) -> str:
    """The last lines of each log, for an error message: the lab's directory (and so every
    log in it) is removed on teardown unless HACOMPILE_LAB_KEEP=1, so a path alone would
    point at nothing."""
    out = [f"its logs end (HACOMPILE_LAB_KEEP=1 keeps {logs[0].parent if logs else 'them'}):"]
    for log in logs:
        try:
            text = log.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        tail = text.splitlines()[-lines:] or ["(empty)"]
        out += [f"  {log.name}: {line}" for line in tail]
    return "\n".join(out)


def wait_ready(proc: subprocess.Popen[str], what: str, timeout: float = 30) -> str:
    """Wait for the first stdout line (the daemons print READY ...)."""
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=timeout):
            raise LabError(f"{what} did not start within {timeout}s")
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        raise LabError(f"{what} failed to start (exit {proc.poll()}); see its log")
    return line.strip()


def in_netns(ns: str, cmd: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", ns, *cmd]


class PidNamespaceProcesses:
    """Processes of one host's PID namespace, found from the host side by its init's PID:
    shared by the namespace LB and the booted host, which the fault runner drives alike."""

    init_pid: int

    def process_name(self, comm: str) -> str:
        """What a process the runner names is called on this host (HAPEE renames some)."""
        return comm

    def pids(self, comm: str | None = None) -> list[int]:
        """Live (non-zombie) processes of this LB's PID namespace, optionally by name."""
        try:
            mine = os.readlink(f"/proc/{self.init_pid}/ns/pid")
        except OSError:
            return []
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == self.init_pid:
                continue
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") != mine:
                    continue
                stat = Path(f"/proc/{entry}/stat").read_text()
                name = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                continue
            if comm is None or name == self.process_name(comm):
                out.append(int(entry))
        return out

    def signal(self, comm: str, sig: signal.Signals) -> int:
        pids = self.pids(comm)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        return len(pids)

    def wait_gone(self, comm: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pids(comm):
                return True
            time.sleep(0.05)
        return False


@dataclass
class LbHost(PidNamespaceProcesses):
    """One load balancer: PID-namespace init plus the processes the lab starts inside it."""

    key: str
    ns: str
    dir: Path  # rendered files, run/ (mounted on /run), logs
    mounts: list[tuple[str, str]]
    env: dict[str, str]  # keepalived's environment (its scripts inherit it)
    haproxy_cmd: list[str]
    keepalived_cmd: list[str]
    placeholders: list[list[str]]
    reconcile_cmd: list[str]
    init: subprocess.Popen[str] | None = None
    init_pid: int = 0
    children: list[subprocess.Popen[str]] = field(default_factory=list)

    def boot(self, keepalived: bool = True) -> None:
        """A fresh PID namespace (the "instance"), then its services in boot order.

        keepalived=False leaves Keepalived (and the reconcile loop) to `start_vrrp`, so that a
        cold start can launch it on every LB at once, like instances booting together.
        """
        mounts_file = self.dir / "mounts.json"
        mounts_file.write_text(json.dumps(self.mounts), encoding="utf-8")
        cmd = in_netns(
            self.ns,
            [
                "unshare",
                "--pid",
                "--fork",
                "--mount-proc",
                sys.executable,
                "-m",
                "hacompile.lab.pidinit",
                str(mounts_file),
                str(MAX_SECONDS),
            ],
        )
        self.init = spawn(cmd, self.dir / "init.log", py_env(), stdout_pipe=True)
        wait_ready(self.init, f"{self.key} init")
        kids = Path(f"/proc/{self.init.pid}/task/{self.init.pid}/children").read_text().split()
        if len(kids) != 1:
            raise LabError(f"{self.key}: cannot find the PID-namespace init ({kids})")
        self.init_pid = int(kids[0])
        # /run is a tmpfs on a real instance: a rebooted LB remembers no VRRP state.
        for stale in (self.dir / "run" / "hacompile" / "state").glob("*"):
            stale.unlink()
        self.run_once(["/usr/local/sbin/hacompile-secondary-ips"], "secondary-ips")
        for cmd in self.placeholders:
            self.enter(cmd, "placeholders")
        self.start_haproxy()
        if keepalived:
            self.start_vrrp()

    def start_vrrp(self) -> None:
        self.start_keepalived()
        if self.reconcile_cmd:
            self.enter(self.reconcile_cmd, "reconcile")

    def enter(self, cmd: Sequence[str], log: str) -> subprocess.Popen[str]:
        full = ["nsenter", "-t", str(self.init_pid), "-n", "-m", "-p", "--wd=/", "--", *cmd]
        proc = spawn(full, self.dir / f"{log}.log", self.env)
        self.children.append(proc)
        return proc

    def run_once(self, cmd: Sequence[str], log: str, timeout: float = 90) -> None:
        proc = self.enter(cmd, log)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise LabError(f"{self.key}: {cmd[0]} did not finish in {timeout}s") from None
        if rc != 0:
            raise LabError(f"{self.key}: {cmd[0]} exited {rc}; see {self.dir}/{log}.log")

    def start_haproxy(self) -> None:
        self.enter(self.haproxy_cmd, "haproxy")

    def start_keepalived(self) -> None:
        for name in ("keepalived.pid", "vrrp.pid"):  # stale after a SIGKILL
            (self.dir / "run" / name).unlink(missing_ok=True)
        self.enter(self.keepalived_cmd, "keepalived")

    def lose(self) -> None:
        """The whole instance dies: SIGKILL to PID 1 kills its namespace."""
        if self.init_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.init_pid, signal.SIGKILL)
        if self.init is not None:
            try:
                self.init.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.init.kill()
        self.reap(wait=5)
        self.init, self.init_pid = None, 0

    def reap(self, wait: float = 0.0) -> None:
        """Collect exited children; with `wait`, give each that long to exit (after the
        namespace was killed), then kill the nsenter wrapper that is left."""
        for proc in self.children:
            if proc.poll() is None and wait > 0:
                try:
                    proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        self.children = [p for p in self.children if p.poll() is None]

    def state(self, eip: str) -> str:
        try:
            return (self.dir / "run" / "hacompile" / "state" / eip).read_text().strip()
        except OSError:
            return ""
