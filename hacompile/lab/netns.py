"""Create and destroy the lab's network namespaces, veths, bridge and routes.

Why `ip -n` everywhere: every address, link and route is created directly inside the namespace
that owns it (veth pairs are born with one end in the bridge namespace and the other in the
host's), so the root namespace never carries lab state, not even briefly. Destruction is
driven by the run prefix alone, so `hacompile lab --cleanup` can remove what a crashed run left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from hacompile.lab.topology import EIP_NET, IMDS_IP, PREFIX_RE, Topology

NETNS_DIR = Path("/run/netns")


class LabError(RuntimeError):
    """A lab step failed; the message says which command and why."""


def sh(*cmd: str, timeout: float = 30, check: bool = True, input: str | None = None) -> str:
    """Run a command (bounded in time); its stdout, or LabError with its stderr."""
    try:
        proc = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout, check=False, input=input
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timed out after {timeout}s: {' '.join(cmd)}") from exc
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def create(topo: Topology) -> None:
    """Bridge namespace (also the VPC router) plus one namespace per host, wired and routed."""
    br = topo.router_ns
    sh("ip", "netns", "add", br)
    sh("ip", "-n", br, "link", "set", "lo", "up")
    sh("ip", "-n", br, "link", "add", "br0", "type", "bridge")
    for cidr in topo.router_ips:
        sh("ip", "-n", br, "addr", "add", cidr, "dev", "br0")
    sh("ip", "-n", br, "link", "set", "br0", "up")
    sh("ip", "netns", "exec", br, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    # The VPC router sends no ICMP redirects (AWS's does not either): a redirect would teach
    # the VPC client a VIP's holder directly, and it would keep using it after a failover.
    for conf in ("all", "default", "br0"):
        sh(
            "ip",
            "netns",
            "exec",
            br,
            "sysctl",
            "-q",
            "-w",
            f"net.ipv4.conf.{conf}.send_redirects=0",
        )
    for host in topo.hosts:
        sh("ip", "netns", "add", host.ns)
        sh("ip", "-n", host.ns, "link", "set", "lo", "up")
        sh(
            "ip",
            "-n",
            br,
            "link",
            "add",
            host.name,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            host.ns,
        )
        sh("ip", "-n", br, "link", "set", host.name, "master", "br0", "up")
        sh("ip", "-n", host.ns, "addr", "add", f"{host.ip}/{host.prefix}", "dev", "eth0")
        sh("ip", "-n", host.ns, "link", "set", "eth0", "up")
        sh("ip", "-n", host.ns, "route", "add", "default", "via", host.gateway)
        if host.kind == "vpcclient":  # only the router's routes count, never a redirect
            for conf in ("all", "eth0"):  # the kernel ORs the two
                key = f"net.ipv4.conf.{conf}.accept_redirects=0"
                sh("ip", "netns", "exec", host.ns, "sysctl", "-q", "-w", key)
        if host.kind == "lb":
            # Unprivileged ping for the gateway check, as systemd sets it on Ubuntu.
            sh(
                "ip",
                "netns",
                "exec",
                host.ns,
                "sysctl",
                "-q",
                "-w",
                "net.ipv4.ping_group_range=0 2147483647",
            )
    # The metadata address lives on the cloud host, reached through each LB's gateway; the
    # cloud host sends each LB (by source address) to that LB's own IMDS stub.
    cloud = topo.host("cloud")
    sh("ip", "-n", cloud.ns, "addr", "add", f"{IMDS_IP}/32", "dev", "lo")
    sh("ip", "-n", br, "route", "add", f"{IMDS_IP}/32", "via", cloud.ip)
    rules = "".join(
        f"    ip saddr {lb.ip} ip daddr {IMDS_IP} tcp dport 80 dnat to {IMDS_IP}:{imds_port(i)}\n"
        for i, lb in enumerate(topo.lbs)
    )
    sh(
        "ip",
        "netns",
        "exec",
        cloud.ns,
        "nft",
        "-f",
        "-",
        input=(
            "table ip hclab_imds {\n  chain pre {\n"
            "    type nat hook prerouting priority -100;\n" + rules + "  }\n}\n"
        ),
    )
    edge = topo.ns("edge")
    for eip in topo.eips:
        sh("ip", "-n", edge, "addr", "add", f"{eip.address}/32", "dev", "lo")
    sh("ip", "-n", topo.ns("client"), "route", "add", str(EIP_NET), "via", topo.host("edge").ip)
    # The router must send EIP lab traffic to the edge too (replies are masqueraded anyway).
    sh("ip", "-n", br, "route", "add", str(EIP_NET), "via", topo.host("edge").ip)


def imds_port(lb_index: int) -> int:
    return 8001 + lb_index


def set_mac(ns: str, mac: str) -> None:
    sh("ip", "-n", ns, "link", "set", "eth0", "address", mac)


def link(topo: Topology, host: str, up: bool) -> None:
    """Pull (or plug back) a host's cable: its bridge-side veth goes down (or up)."""
    sh("ip", "-n", topo.router_ns, "link", "set", host, "up" if up else "down")


def lab_namespaces(prefix: str | None = None) -> list[str]:
    """Namespaces of lab runs (all, or one prefix's)."""
    try:
        names = sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        head = name.split("-", 1)[0]
        if PREFIX_RE.match(head) and (prefix is None or head == prefix):
            out.append(name)
    return out


def pids_in(ns: str) -> list[int]:
    try:
        out = sh("ip", "netns", "pids", ns, check=False, timeout=10)
    except LabError:
        return []
    return [int(p) for p in out.split() if p.isdigit()]


def destroy(prefix: str | None = None) -> list[str]:
    """Kill every process inside the lab's namespaces, then delete them; returns their names."""
    names = lab_namespaces(prefix)
    for _ in range(3):  # bounded: processes started while we kill are caught next round
        victims = [pid for ns in names for pid in pids_in(ns)]
        if not victims:
            break
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
    for ns in names:
        sh("ip", "netns", "del", ns, check=False)
    return names
