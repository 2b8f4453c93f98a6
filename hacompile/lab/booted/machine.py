"""One booted host: a copy-on-write overlay of the image, booted by systemd-nspawn with systemd
as PID 1 inside the host's own network namespace.

Why these nspawn flags (measured on these machines, see docs/lab.md): `--network-namespace-path`
joins the namespace the lab wired (and drops CAP_NET_ADMIN unless given back: the secondary-IP
unit needs it); `--register=no --keep-unit` because the machine's PID 1 is not systemd (no
machined); `--resolv-conf=off --timezone=off` because the lab writes those files; each host
starts from a cgroup of its own (two containers in one cgroup share one `payload` cgroup).

The overlay's upper directory is the host's disk: it survives a power-off, so a reboot boots
what Ansible installed, in the unit order the bundle declared. "Power lost" is SIGKILL to the
host's PID 1 (the kernel then kills the whole PID namespace); "power off" is `systemctl
poweroff`. The fault matrix drives the host through the same methods as a namespace LB.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hacompile.lab.booted.image import nspawn
from hacompile.lab.hosts import PidNamespaceProcesses
from hacompile.lab.netns import LabError

CGROUP_ROOTS = (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/systemd"))


@dataclass
class BootedHost(PidNamespaceProcesses):
    key: str  # lb1, web1
    hostname: str  # the inventory name
    ns: str
    dir: Path
    image: Path
    haproxy_service: str = "haproxy"
    keepalived_service: str = "keepalived"
    proc: subprocess.Popen[str] | None = None
    init_pid: int = 0
    boots: int = 0
    cgroups: list[Path] = field(default_factory=list)
    supervised: bool = True  # systemd restarts what its units say (the runner checks it)
    # Process names the runner asks for -> what they are called on this host (HAPEE).
    names: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.dir / "merged"

    @property
    def upper(self) -> Path:
        return self.dir / "upper"

    def prepare(self, files: dict[str, tuple[str, int]]) -> None:
        """Mount the overlay and write the files a cloud image would have on first boot."""
        for d in (self.upper, self.dir / "work", self.root):
            d.mkdir(parents=True, exist_ok=True)
        _run(
            "mount",
            "-t",
            "overlay",
            f"overlay-{self.key}",
            "-o",
            f"lowerdir={self.image},upperdir={self.upper},workdir={self.dir / 'work'}",
            str(self.root),
        )
        for path, (text, mode) in files.items():
            target = self.root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            target.chmod(mode)
        # Fresh host keys per host, as cloud-init makes them on first boot.
        _run("ssh-keygen", "-A", "-f", str(self.root))

    def chown_tree(self, path: str, uid: int, gid: int) -> None:
        for dirpath, _, files in os.walk(self.root / path.lstrip("/")):
            os.chown(dirpath, uid, gid)
            for name in files:
                os.chown(os.path.join(dirpath, name), uid, gid)

    def boot(self, keepalived: bool = True, timeout: float = 120) -> None:
        """Power on and wait until systemd reached its default target (sshd up)."""
        del keepalived  # systemd starts what is enabled, in the bundle's unit order
        self.boots += 1
        cg = self._cgroups()
        cmd = [
            str(nspawn()),
            "-b",
            "-D",
            str(self.root),
            "-M",
            self.hostname[:64],
            "--register=no",
            "--keep-unit",
            f"--network-namespace-path=/run/netns/{self.ns}",
            "--capability=CAP_NET_ADMIN",
            "--resolv-conf=off",
            "--timezone=off",
            "--console=pipe",
            "--link-journal=no",
            "--kill-signal=SIGRTMIN+3",
        ]
        log = self.dir / f"console-{self.boots}.log"
        with open(log, "ab") as fh:
            self.proc = subprocess.Popen(
                cmd,
                stdout=fh,
                stderr=fh,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_NSPAWN_TMPFS_TMP": "0"},
                preexec_fn=lambda: _join(cg),
                text=True,
            )
        deadline = time.monotonic() + timeout
        while not self.init_pid:
            # nspawn's first child is a helper in our PID namespace; the host's PID 1 is the
            # child (reparented to nspawn, a subreaper) that lives in a PID namespace of its own.
            init = _container_init(self.proc.pid)
            if init:
                self.init_pid = init
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                raise LabError(f"{self.key}: the host did not boot; see {log}")
            else:
                time.sleep(0.05)
        self.wait_booted(deadline, log)

    def wait_booted(self, deadline: float, log: Path) -> None:
        """Until systemd says the boot is over; its bus answers only a moment after PID 1
        starts, so an early "offline" or no answer is asked again (bounded by `deadline`)."""
        state = ""
        for _ in range(10_000):
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc is not None and self.proc.poll() is not None):
                break
            try:
                state = self.run(
                    "systemctl", "is-system-running", "--wait", timeout=min(left, 30), check=False
                ).stdout.strip()
            except LabError:
                state = "no answer"
            if state in ("running", "degraded"):
                return
            time.sleep(0.2)
        raise LabError(f"{self.key}: the boot did not finish ({state or 'no answer'}); see {log}")

    def _cgroups(self) -> list[Path]:
        if not self.cgroups:
            for base in CGROUP_ROOTS:
                if (base / "cgroup.procs").exists():
                    group = base / "hacompile-lab" / f"{self.ns}"
                    group.mkdir(parents=True, exist_ok=True)
                    self.cgroups.append(group)
        return self.cgroups

    def run(
        self, *cmd: str, timeout: float = 60, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A command inside the host, as root, in all its namespaces."""
        if not self.init_pid:
            raise LabError(f"{self.key} is not running")
        full = [
            "nsenter",
            "-t",
            str(self.init_pid),
            "-a",
            "--wd=/",
            "--",
            "env",
            "-i",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8",
            *cmd,
        ]
        try:
            proc = subprocess.run(
                full, capture_output=True, text=True, timeout=timeout, input=input, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"{self.key}: timed out after {timeout}s: {' '.join(cmd)}") from exc
        if check and proc.returncode != 0:
            raise LabError(
                f"{self.key}: {' '.join(cmd)} exited {proc.returncode}: "
                f"{(proc.stdout + proc.stderr).strip()[-1500:]}"
            )
        return proc

    def systemctl(self, *args: str, check: bool = True) -> str:
        return self.run("systemctl", *args, timeout=90, check=check).stdout

    # ---- the fault interface the runner uses (same as a namespace LB) -------------------------
    def start_vrrp(self) -> None:
        self.start_keepalived()

    def start_haproxy(self) -> None:
        self.systemctl("start", self.haproxy_service)

    def start_keepalived(self) -> None:
        self.systemctl("start", self.keepalived_service)

    def stop_haproxy(self) -> None:
        self.systemctl("stop", self.haproxy_service)

    def process_name(self, comm: str) -> str:
        return self.names.get(comm, comm)

    def reap(self, wait: float = 0.0) -> None:
        del wait

    def lose(self) -> None:
        """Power lost: SIGKILL to the host's PID 1; the kernel kills everything in it."""
        if self.init_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.init_pid, signal.SIGKILL)
        self._wait_exit(20)

    def poweroff(self, timeout: float = 60) -> None:
        """A clean shutdown: systemd stops every unit (keepalived says goodbye)."""
        if self.init_pid:
            self.run("systemctl", "poweroff", "--no-block", check=False)
        if not self._wait_exit(timeout):
            self.lose()

    def _wait_exit(self, timeout: float) -> bool:
        ok = True
        if self.proc is not None:
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                ok = False
                self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=10)
        self.proc, self.init_pid = None, 0
        return ok

    def state(self, eip: str) -> str:
        try:
            return (
                (Path(f"/proc/{self.init_pid}/root/run/hacompile/state") / eip).read_text().strip()
            )
        except OSError:
            return ""

    def close(self) -> None:
        """Power lost, overlay unmounted, cgroups removed (only what this host made)."""
        self.lose()
        kill_cgroups(self.cgroups)
        if self.root.is_mount():
            _run("umount", str(self.root), check=False)
        for group in self.cgroups:
            remove_cgroup(group)


def kill_cgroups(groups: list[Path], timeout: float = 10) -> None:
    """Kill whatever still runs in these cgroups (cgroup.kill, unified hierarchy) and wait for
    them to empty: a host whose PID 1 was never found must not outlive its run."""
    for group in groups:
        with contextlib.suppress(OSError):
            (group / "cgroup.kill").write_text("1")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_busy(g) for g in groups):
        time.sleep(0.1)


def remove_cgroup(group: Path) -> bool:
    """Remove an (emptied) cgroup and the sub-cgroups systemd made in it, deepest first."""
    for sub in sorted(group.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if sub.is_dir():
            with contextlib.suppress(OSError):
                sub.rmdir()
    try:
        group.rmdir()
    except OSError:
        return False
    return True


def _busy(group: Path) -> bool:
    try:
        return any(p.read_text().strip() for p in group.rglob("cgroup.procs"))
    except OSError:  # a sub-cgroup went away while we looked: look again
        return True


def _join(groups: list[Path]) -> None:
    """In the child before exec: move into the host's own cgroups."""
    for group in groups:
        (group / "cgroup.procs").write_text(str(os.getpid()))


def _container_init(pid: int) -> int:
    """The child of `pid` that runs in another PID namespace than `pid` (0 if none yet)."""
    try:
        kids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        ours = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return 0
    for kid in kids:
        try:
            if os.readlink(f"/proc/{kid}/ns/pid") != ours:
                return kid
        except OSError:
            continue
    return 0


def _run(*cmd: str, check: bool = True) -> None:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, check=False)
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")


def unmount_leftovers(root: Path = Path("/tmp/hacompile-lab")) -> list[str]:
    """Overlay mounts and cgroups that a crashed booted run left (its processes died with its
    namespaces): only mount points under `root`/<run prefix>/hosts/, only the lab's cgroups."""
    from hacompile.lab.topology import PREFIX_RE

    removed = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = Path(line.split()[1])
        try:
            rel = point.relative_to(root)
        except ValueError:
            continue
        if len(rel.parts) == 4 and PREFIX_RE.match(rel.parts[0]) and rel.parts[1] == "hosts":
            _run("umount", "-l", str(point), check=False)
            removed.append(str(point))
    for base in CGROUP_ROOTS:
        parent = base / "hacompile-lab"
        for group in sorted(parent.glob("hcl*")) if parent.is_dir() else []:
            if PREFIX_RE.match(group.name.split("-", 1)[0]):
                kill_cgroups([group])
                if remove_cgroup(group):
                    removed.append(str(group))
    return removed
