"""Stand one region's LB tier up in namespaces, and tear it down again whatever happened.

Why a context manager: every run gets a unique prefix (namespaces, directories), and __exit__
destroys everything under that prefix — after a failed step, an assertion, or Ctrl-C alike.
The bundle is compiled from the spec like `hacompile build` would, written to disk, and its
own artefacts are used: configs rendered by its Ansible roles, its scripts copied (never edited)
and pointed at the lab by environment and bind mounts. Every such substitution is recorded in
`Lab.substitutions` with its reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import resource
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hacompile.lab import netns
from hacompile.lab.hosts import LbHost, in_netns, log_tails, py_env, spawn, wait_ready
from hacompile.lab.netns import LabError
from hacompile.lab.observe import JsonlTail, Observer
from hacompile.lab.prereqs import AWSCLI, awscli_install
from hacompile.lab.render import render
from hacompile.lab.topology import API_PORT, CLOUD_IP, Topology, build, new_prefix
from hacompile.plan.model import Plan
from hacompile.standins.imds import ImdsInterface, imds_metadata
from hacompile.standins.moto import aws_env

SCRIPTS = (
    "hacompile-eip-claim",
    "hacompile-vrrp-notify",
    "hacompile-eip-reconcile",
    "hacompile-check-gateway",
    "hacompile-check-process",
    "hacompile-keepalived-configtest",
)


@dataclass
class Lab:
    plan: Plan
    bundle: Path  # a written bundle directory
    region_index: int = 0
    substitutions: list[str] = field(default_factory=list)
    prefix: str = field(default_factory=new_prefix)
    topo: Topology = field(init=False)
    lbs: dict[str, LbHost] = field(default_factory=dict)
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)
    sockets: list[socket.socket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.topo = build(self.plan.regions[self.region_index], self.prefix)

    @property
    def dir(self) -> Path:
        return self.topo.lab_dir

    def note(self, text: str) -> None:
        self.substitutions.append(text)

    # ---- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for lb in self.lbs.values():
            lb.lose()
        netns.destroy(self.prefix)
        for sock in self.sockets:
            sock.close()
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        if os.environ.get("HACOMPILE_LAB_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def start(self) -> None:
        if not AWSCLI.is_file():
            raise LabError(
                f"{AWSCLI} missing: the EIP scripts run as an unprivileged user and "
                f"need an AWS CLI it can execute; install it: {awscli_install()}"
            )
        user = self.plan.keepalived.script_user
        ensure_user(user, self.note)
        self.start_network()
        self.render_and_prepare(user)
        for backend in self.topo.backends:
            self.start_backend(backend.name, backend.port)
        for host in self.lbs.values():
            host.boot(keepalived=False)
        for host in self.lbs.values():
            host.start_vrrp()
        self.start_probe()

    def start_network(self) -> None:
        """The run directory, the namespaces and their wiring, the cloud, the LBs' MACs."""
        self.dir.mkdir(parents=True, mode=0o755)
        os.chmod(self.dir.parent, 0o755)
        netns.create(self.topo)
        netns.sh(
            "ip",
            "netns",
            "exec",
            self.topo.ns("edge"),
            "sysctl",
            "-q",
            "-w",
            "net.ipv4.ip_forward=1",
        )
        self.start_cloud()
        for lb in self.topo.lbs:
            netns.set_mac(self.topo.ns(lb.key), self.ids["enis"][lb.key]["mac"])

    def start_backend(self, name: str, port: int) -> None:
        """A lab backend daemon answering "backend NAME" in that backend's namespace."""
        proc = spawn(
            in_netns(
                self.topo.ns(name),
                [sys.executable, "-m", "hacompile.lab.daemons", "backend", name, str(port)],
            ),
            self.dir / f"{name}.log",
            py_env(),
            True,
        )
        self.procs.append(proc)
        wait_ready(proc, f"backend {name}")

    def start_probe(self) -> None:
        """The client: every EIP's lab address, every 50 ms, through the edge."""
        fes = self.plan.haproxy.frontends
        port = next((f.port for f in fes if f.mode == "http"), fes[0].port)
        cfg = {
            "targets": [
                {"eip": e.key, "url": f"http://{e.address}:{port}/"} for e in self.topo.eips
            ],
            "interval": 0.05,
            "timeout": 1.0,
            "out": str(self.dir / "probe.jsonl"),
            "stop": str(self.dir / "probe.stop"),
            "max_seconds": 3 * 3600,
            "max_requests": 3 * 3600 * 20,
        }
        (self.dir / "probe.json").write_text(json.dumps(cfg), encoding="utf-8")
        proc = spawn(
            in_netns(
                self.topo.ns("client"),
                [sys.executable, "-m", "hacompile.lab.probe", str(self.dir / "probe.json")],
            ),
            self.dir / "probe.log",
            py_env(),
            True,
        )
        self.procs.append(proc)
        wait_ready(proc, "client probe")

    def observer(self) -> Observer:
        return Observer(
            JsonlTail(self.dir / "events.jsonl"),
            JsonlTail(self.dir / "probe.jsonl"),
            self.dir / "cloud.sock",
            lambda lb, eip: self.lbs[lb].state(eip),
        )

    def start_cloud(self) -> None:
        cfg = {
            "region": self.topo.region,
            "vpc_cidr": self.topo.vpc_cidr,
            "subnets": sorted({lb.subnet_cidr for lb in self.topo.lbs}),
            "lbs": [
                {"key": lb.key, "ip": lb.ip, "subnet_cidr": lb.subnet_cidr, "slots": list(lb.slots)}
                for lb in self.topo.lbs
            ],
            "eips": [{"key": e.key, "address": e.address} for e in self.topo.eips],
            "edge_ns": self.topo.ns("edge"),
            "listen": CLOUD_IP,
            "port": API_PORT,
            "ids": str(self.dir / "ids.json"),
            "events": str(self.dir / "events.jsonl"),
            "socket": str(self.dir / "cloud.sock"),
            "moto_log": str(self.dir / "moto.log"),
            "max_seconds": 4 * 3600,
        }
        (self.dir / "cloud.json").write_text(json.dumps(cfg), encoding="utf-8")
        proc = spawn(
            in_netns(
                self.topo.ns("cloud"),
                [sys.executable, "-m", "hacompile.lab.cloud", str(self.dir / "cloud.json")],
            ),
            self.dir / "cloud.log",
            py_env(),
        )
        self.procs.append(proc)
        ids_file = self.dir / "ids.json"
        deadline = time.monotonic() + 60
        while not ids_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                # The lab's directory goes with the teardown: quote the logs, do not point there.
                how = "timed out" if proc.poll() is None else f"exited {proc.poll()}"
                raise LabError(
                    f"the cloud host did not start ({how}); "
                    + log_tails(self.dir / "cloud.log", self.dir / "moto.log")
                )
            time.sleep(0.1)
        self.ids = json.loads(ids_file.read_text(encoding="utf-8"))

    # ---- the bundle's artefacts -------------------------------------------------------------
    def render_and_prepare(self, user: str) -> None:
        plan, flavor = self.plan, self.plan.flavor
        extra: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        for var, owner in (
            ("haproxy_user", flavor.haproxy_user),
            ("haproxy_group", flavor.haproxy_group),
        ):
            ok = _exists(owner, group=var.endswith("group"))
            if not ok:
                extra[var] = "haproxy"
                reasons[var] = f"{owner!r} does not exist on this machine (HAPEE AMI account)"
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY and 2 * plan.haproxy.maxconn + 200 > hard:
            extra["haproxy_maxconn"] = (hard - 200) // 2
            reasons["haproxy_maxconn"] = (
                f"this machine caps open files at {hard}; HAProxy "
                f"needs 2 x maxconn ({plan.haproxy.maxconn})"
            )
        rendered = render(self.bundle, self.topo, self.ids, self.dir / "render", extra, reasons)
        self.substitutions.extend(rendered.substitutions)
        shared_sbin, shared_bin, procs = (self.dir / d for d in ("sbin", "bin", "procs"))
        for d in (shared_sbin, shared_bin, procs):
            d.mkdir(mode=0o755)
        files = self.bundle / "ansible" / "roles"
        for name in SCRIPTS:
            _install(files / "keepalived" / "files" / name, shared_sbin / name)
        _install(
            files / "secondary_ip" / "files" / "hacompile-secondary-ips",
            shared_sbin / "hacompile-secondary-ips",
        )
        (shared_bin / "aws").symlink_to(AWSCLI)
        self.note(
            f"/usr/local/sbin, /usr/local/bin: bind-mounted per LB (mount namespace) to "
            f"the bundle's scripts, copied unchanged, and {AWSCLI}"
        )
        self.note(
            f"AWS_ENDPOINT_URL={self.topo.api_url}: the EC2 API is moto behind a fault "
            "proxy on the lab's cloud host"
        )
        self.note(
            "HACOMPILE_EIP_PRIVATE_IP_CHECK=eni-only: moto 5.2 reports the ENI's primary "
            "IP, not the associated slot; the edge takes the slot from the request"
        )
        haproxy_proc = flavor.haproxy_process
        (procs / haproxy_proc).symlink_to("/usr/sbin/haproxy")
        if flavor.haproxy_binary != "/usr/sbin/haproxy" or haproxy_proc != "haproxy":
            self.note(
                f"{flavor.haproxy_binary} -> /usr/sbin/haproxy (Debian's haproxy 2.6), "
                f"started through a link named {haproxy_proc!r} so `pgrep -x "
                f"{haproxy_proc}` finds it"
            )
        if flavor.keepalived_binary != "/usr/sbin/keepalived":
            self.note(f"{flavor.keepalived_binary} -> /usr/sbin/keepalived (Debian's 2.2.7)")
        placeholders = []
        for check in plan.keepalived.checks:
            if check.kind == "process" and check.process != haproxy_proc:
                (procs / check.process).symlink_to(shutil.which("sleep") or "/bin/sleep")
                placeholders.append([str(procs / check.process), str(6 * 3600)])
                self.note(
                    f"process check {check.name} ({check.process}): that daemon does not "
                    "run in the lab; a placeholder process of that name keeps it passing"
                )
        hosts_file = self._hosts_file()
        if plan.keepalived.reconcile_interval:
            self.note(
                f"hacompile-eip-reconcile.timer -> a bounded loop every "
                f"{plan.keepalived.reconcile_interval}s as {user}, only while keepalived "
                "runs (the unit's Requisite=; no systemd here)"
            )
        for lb in self.topo.lbs:
            self.lbs[lb.key] = self._lb(
                lb.key, rendered.dirs[lb.key], user, placeholders, hosts_file
            )

    def _hosts_file(self) -> Path | None:
        names = [b for b in self.topo.backends if b.address != b.ip]
        if not names:
            return None
        path = self.dir / "hosts"
        text = Path("/etc/hosts").read_text(encoding="utf-8")
        text += "".join(f"{b.ip} {b.address}\n" for b in names)
        path.write_text(text, encoding="utf-8")
        for b in names:
            self.note(
                f"backend {b.name} ({b.address}): a lab backend at {b.ip}:{b.port}, "
                "resolved through /etc/hosts bind-mounted in each LB"
            )
        return path

    def _syslog(self, d: Path) -> str:
        """A /dev/log stand-in the claim script logs to (HACOMPILE_LOG_SOCKET)."""
        path = d / "log.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        path.chmod(0o666)
        self.sockets.append(sock)
        threading.Thread(target=_drain, args=(sock, d / "syslog.log"), daemon=True).start()
        return str(path)

    def _serve_imds(self, d: Path, md: dict[str, str], index: int, key: str) -> None:
        """Serve `md` as IMDSv2 to LB number `index` (DNAT by source in the cloud namespace),
        and wait until it answers: the one way both labs start a host's metadata service."""
        (d / "imds.json").write_text(json.dumps(md), encoding="utf-8")
        proc = spawn(
            in_netns(
                self.topo.ns("cloud"),
                [
                    sys.executable,
                    "-m",
                    "hacompile.lab.daemons",
                    "imds",
                    str(d / "imds.json"),
                    str(netns.imds_port(index)),
                ],
            ),
            d / "imds.log",
            py_env(),
            True,
        )
        self.procs.append(proc)
        wait_ready(proc, f"{key} IMDS")

    def _lb(
        self,
        key: str,
        rendered: Path,
        user: str,
        placeholders: list[list[str]],
        hosts_file: Path | None,
    ) -> LbHost:
        lb = self.topo.lb(key)
        d = self.dir / key
        shutil.copytree(rendered, d)
        run = d / "run"
        (run / "hacompile" / "state").mkdir(parents=True)
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        for p in (run / "hacompile", run / "hacompile" / "state"):
            os.chown(p, uid, gid)
            p.chmod(0o750)
        for sock_dir in ("haproxy", *{Path(self.plan.flavor.haproxy_socket).parent.name}):
            (run / sock_dir).mkdir(exist_ok=True)
        eni = self.ids["enis"][key]
        md = imds_metadata(
            [ImdsInterface(eni["mac"], eni["eni_id"], (lb.ip, *lb.slots), lb.subnet_cidr)],
            eni["instance_id"],
        )
        self._serve_imds(d, md, [x.key for x in self.topo.lbs].index(key), key)
        mounts = [
            (str(run), "/run"),
            (str(self.dir / "sbin"), "/usr/local/sbin"),
            (str(self.dir / "bin"), "/usr/local/bin"),
        ]
        if hosts_file is not None:
            mounts.append((str(hosts_file), "/etc/hosts"))
        env = {
            **aws_env(self.topo.api_url, self.topo.region),
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/nonexistent",
            "LANG": "C.UTF-8",
            "HACOMPILE_EIP_DIR": str(d / "eip"),
            "HACOMPILE_EIP_PRIVATE_IP_CHECK": "eni-only",
            "HACOMPILE_EIP_STDERR": "0",
            "HACOMPILE_LOG_SOCKET": self._syslog(d),
        }
        hap = [
            str(self.dir / "procs" / self.plan.flavor.haproxy_process),
            "-db",
            "-f",
            str(d / "haproxy.cfg"),
        ]
        kad = [
            "/usr/sbin/keepalived",
            "-n",
            "-l",
            "-D",
            "--vrrp",
            "-f",
            str(d / "keepalived.conf"),
            "-p",
            "/run/keepalived.pid",
            "-r",
            "/run/vrrp.pid",
        ]
        interval = self.plan.keepalived.reconcile_interval
        rec = (
            [
                "setpriv",
                f"--reuid={user}",
                f"--regid={user}",
                "--init-groups",
                "sh",
                "-c",
                f"i=0; while [ $i -lt 2000 ]; do sleep {interval}; "
                "! pgrep -x keepalived >/dev/null || /usr/local/sbin/hacompile-eip-reconcile; "
                "i=$((i+1)); done",
            ]
            if interval
            else []
        )
        return LbHost(key, self.topo.ns(key), d, mounts, env, hap, kad, placeholders, rec)


def _drain(sock: socket.socket, out: Path) -> None:
    """Copy syslog datagrams to a file, with the lab's clock (thread; ends with the socket)."""
    with open(out, "a", encoding="utf-8") as fh:
        for _ in range(10_000_000):
            try:
                data = sock.recv(65536)
            except OSError:
                return
            fh.write(f"{time.time():.3f} {data.decode('utf-8', 'replace')}\n")
            fh.flush()


def _exists(name: str, group: bool) -> bool:
    import grp

    try:
        (grp.getgrnam if group else pwd.getpwnam)(name)
    except KeyError:
        return False
    return True


def ensure_user(user: str, note: Any) -> None:
    if _exists(user, group=False):
        return
    netns.sh("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user)
    note(f"created system user {user} (keepalived's script_user, as the role does)")


def _install(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    dst.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
