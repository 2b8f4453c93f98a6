"""The namespace lab's load balancers: the bundle's own artefacts made ready for them, and each
LB's host (directories, mounts, environment, commands) assembled.

Why these are the bundle's files: the lab tests what a deployment runs. Configs are rendered by
the bundle's roles (hacompile.lab.render), its scripts copied unchanged to a directory each LB
mounts on /usr/local/sbin, and every difference from an instance (a user, a limit, a binary, a
placeholder process, a hosts file) is passed to `note` with its reason.
"""

from __future__ import annotations

import grp
import os
import pwd
import resource
import shutil
import socket
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hacompile.lab import netns
from hacompile.lab.hosts import LbHost
from hacompile.lab.prereqs import AWSCLI
from hacompile.lab.topology import Topology
from hacompile.plan.model import Plan
from hacompile.standins.imds import ImdsInterface, imds_metadata
from hacompile.standins.moto import aws_env

__all__ = [
    "SCRIPTS",
    "LbSite",
    "ensure_user",
    "hosts_file",
    "install_shared",
    "lb_dir",
    "lb_host",
    "lb_metadata",
    "render_overrides",
    "syslog",
]

Note = Callable[[str], None]

SCRIPTS = (
    "hacompile-eip-claim",
    "hacompile-vrrp-notify",
    "hacompile-eip-reconcile",
    "hacompile-check-gateway",
    "hacompile-check-process",
    "hacompile-keepalived-configtest",
)


@dataclass(frozen=True)
class LbSite:
    """What every LB host of one lab shares."""

    plan: Plan
    topo: Topology
    lab_dir: Path
    user: str  # keepalived's script_user
    placeholders: list[list[str]]  # processes that stand in for daemons the lab does not run
    hosts_file: Path | None  # /etc/hosts with the lab backends' names, if any need one
    claim_env: Mapping[str, str]  # extra environment of keepalived and so of every claim


def ensure_user(user: str, note: Note) -> None:
    """Create keepalived's script_user if this machine lacks it, as the role does."""
    if _exists(user, group=False):
        return
    netns.sh("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user)
    note(f"created system user {user} (keepalived's script_user, as the role does)")


def render_overrides(plan: Plan) -> tuple[dict[str, Any], dict[str, str]]:
    """The role variables this machine cannot honour (extra vars) and why (their reasons)."""
    flavor = plan.flavor
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
    return extra, reasons


def install_shared(
    plan: Plan, bundle: Path, topo: Topology, lab_dir: Path, note: Note
) -> list[list[str]]:
    """The directories every LB mounts (sbin: the bundle's scripts; bin: the AWS CLI; procs:
    the daemons under the names their checks look for); the placeholder processes to run."""
    flavor = plan.flavor
    shared_sbin, shared_bin, procs = (lab_dir / d for d in ("sbin", "bin", "procs"))
    for d in (shared_sbin, shared_bin, procs):
        d.mkdir(mode=0o755)
    files = bundle / "ansible" / "roles"
    for name in SCRIPTS:
        _install(files / "keepalived" / "files" / name, shared_sbin / name)
    _install(
        files / "secondary_ip" / "files" / "hacompile-secondary-ips",
        shared_sbin / "hacompile-secondary-ips",
    )
    (shared_bin / "aws").symlink_to(AWSCLI)
    note(
        f"/usr/local/sbin, /usr/local/bin: bind-mounted per LB (mount namespace) to "
        f"the bundle's scripts, copied unchanged, and {AWSCLI}"
    )
    note(
        f"AWS_ENDPOINT_URL={topo.api_url}: the EC2 API is moto behind a fault "
        "proxy on the lab's cloud host"
    )
    note(
        "HACOMPILE_EIP_PRIVATE_IP_CHECK=eni-only: moto 5.2 reports the ENI's primary "
        "IP, not the associated slot; the edge takes the slot from the request"
    )
    haproxy_proc = flavor.haproxy_process
    (procs / haproxy_proc).symlink_to("/usr/sbin/haproxy")
    if flavor.haproxy_binary != "/usr/sbin/haproxy" or haproxy_proc != "haproxy":
        note(
            f"{flavor.haproxy_binary} -> /usr/sbin/haproxy (Debian's haproxy 2.6), "
            f"started through a link named {haproxy_proc!r} so `pgrep -x "
            f"{haproxy_proc}` finds it"
        )
    if flavor.keepalived_binary != "/usr/sbin/keepalived":
        note(f"{flavor.keepalived_binary} -> /usr/sbin/keepalived (Debian's 2.2.7)")
    placeholders = []
    for check in plan.keepalived.checks:
        if check.kind == "process" and check.process != haproxy_proc:
            (procs / check.process).symlink_to(shutil.which("sleep") or "/bin/sleep")
            placeholders.append([str(procs / check.process), str(6 * 3600)])
            note(
                f"process check {check.name} ({check.process}): that daemon does not "
                "run in the lab; a placeholder process of that name keeps it passing"
            )
    return placeholders


def hosts_file(topo: Topology, lab_dir: Path, note: Note) -> Path | None:
    """/etc/hosts plus the lab backends that stand for names (existing backends by DNS)."""
    names = [b for b in topo.backends if b.address != b.ip]
    if not names:
        return None
    path = lab_dir / "hosts"
    text = Path("/etc/hosts").read_text(encoding="utf-8")
    text += "".join(f"{b.ip} {b.address}\n" for b in names)
    path.write_text(text, encoding="utf-8")
    for b in names:
        note(
            f"backend {b.name} ({b.address}): a lab backend at {b.ip}:{b.port}, "
            "resolved through /etc/hosts bind-mounted in each LB"
        )
    return path


def lb_dir(site: LbSite, key: str, rendered: Path) -> Path:
    """LB `key`'s directory: its rendered files and the run/ it mounts on /run."""
    d = site.lab_dir / key
    shutil.copytree(rendered, d)
    run = d / "run"
    (run / "hacompile" / "state").mkdir(parents=True)
    uid, gid = pwd.getpwnam(site.user).pw_uid, pwd.getpwnam(site.user).pw_gid
    for p in (run / "hacompile", run / "hacompile" / "state"):
        os.chown(p, uid, gid)
        p.chmod(0o750)
    for sock_dir in ("haproxy", *{Path(site.plan.flavor.haproxy_socket).parent.name}):
        (run / sock_dir).mkdir(exist_ok=True)
    return d


def lb_metadata(topo: Topology, ids: dict[str, Any], key: str) -> dict[str, str]:
    """The instance metadata LB `key` sees: its ENI (primary and slot addresses), its ID."""
    lb, eni = topo.lb(key), ids["enis"][key]
    return imds_metadata(
        [ImdsInterface(eni["mac"], eni["eni_id"], (lb.ip, *lb.slots), lb.subnet_cidr)],
        eni["instance_id"],
    )


def syslog(d: Path) -> tuple[socket.socket, str]:
    """A /dev/log stand-in the claim script logs to (HACOMPILE_LOG_SOCKET), drained to
    d/syslog.log by a thread that ends when the caller closes the socket."""
    path = d / "log.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    path.chmod(0o666)
    threading.Thread(target=_drain, args=(sock, d / "syslog.log"), daemon=True).start()
    return sock, str(path)


def lb_host(site: LbSite, key: str, d: Path, log_socket: str) -> LbHost:
    """LB `key` as the lab runs it: mounts, keepalived's environment, the commands."""
    topo, plan, user = site.topo, site.plan, site.user
    mounts = [
        (str(d / "run"), "/run"),
        (str(site.lab_dir / "sbin"), "/usr/local/sbin"),
        (str(site.lab_dir / "bin"), "/usr/local/bin"),
    ]
    if site.hosts_file is not None:
        mounts.append((str(site.hosts_file), "/etc/hosts"))
    env = {
        **aws_env(topo.api_url, topo.region),
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/nonexistent",
        "LANG": "C.UTF-8",
        "HACOMPILE_EIP_DIR": str(d / "eip"),
        "HACOMPILE_EIP_PRIVATE_IP_CHECK": "eni-only",
        "HACOMPILE_EIP_STDERR": "0",
        "HACOMPILE_LOG_SOCKET": log_socket,
        **site.claim_env,
    }
    hap = [
        str(site.lab_dir / "procs" / plan.flavor.haproxy_process),
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
    interval = plan.keepalived.reconcile_interval
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
    return LbHost(key, topo.ns(key), d, mounts, env, hap, kad, site.placeholders, rec)


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
    try:
        (grp.getgrnam if group else pwd.getpwnam)(name)
    except KeyError:
        return False
    return True


def _install(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    dst.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
