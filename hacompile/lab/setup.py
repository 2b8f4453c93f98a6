"""Stand one region's LB tier up in namespaces, and tear it down again whatever happened.

Why a context manager: every run gets a unique prefix (namespaces, directories), and __exit__
destroys everything under that prefix — after a failed step, an assertion, or Ctrl-C alike.
The bundle is compiled from the spec like `hacompile build` would, written to disk, and its
own artefacts are used: configs rendered by its Ansible roles, its scripts copied (never edited)
and pointed at the lab by environment and bind mounts. Every such substitution is recorded in
`Lab.substitutions` with its reason.

This module keeps the order of the start and the teardown, and starts the backends and the
client; the shared cloud host and each LB's metadata service start in
hacompile.lab.setup_cloud, and the LBs' files and hosts are made in hacompile.lab.setup_lbs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hacompile.lab import netns, setup_cloud, setup_lbs
from hacompile.lab.byo import Byo, check_bundle, substitutions, summary
from hacompile.lab.compile import LabBuild
from hacompile.lab.hosts import LbHost, in_netns, py_env, spawn, wait_ready
from hacompile.lab.netns import LabError
from hacompile.lab.observe import JsonlTail, Observer, cloud_call
from hacompile.lab.prereqs import AWSCLI, awscli_install
from hacompile.lab.render import render
from hacompile.lab.topology import Topology, build, new_prefix
from hacompile.plan.model import Plan


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
    byo: Byo | None = None  # a bring-your-own-network spec: its cloud makes that network first
    created: dict[str, Any] = field(default_factory=dict)  # the existing network's IDs
    # extra environment of every EIP claim (keepalived's and the reconcile timer's): the
    # failover benchmark's baseline runs the claims with HACOMPILE_EIP_SIGNED=off
    claim_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.topo = build(
            self.plan.regions[self.region_index],
            self.prefix,
            tags=self.plan.tags,
            deployment_tag_key=self.plan.deployment_tag_key,
        )

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
        setup_lbs.ensure_user(user, self.note)
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
        """The client: every EIP's lab address, every 50 ms, through the edge; with private
        VIPs also the VPC client: every VIP, every 50 ms, through the VPC router."""
        self._probe("client", "probe", self.probe_targets())
        if self.topo.vips:
            self._probe("vclient", "vprobe", self.vip_probe_targets())

    def _probe(self, host: str, name: str, targets: list[dict[str, str]]) -> None:
        cfg = {
            "targets": targets,
            "interval": 0.05,
            "timeout": 1.0,
            "out": str(self.dir / f"{name}.jsonl"),
            "stop": str(self.dir / "probe.stop"),
            "max_seconds": 3 * 3600,
            "max_requests": 3 * 3600 * 20,
        }
        (self.dir / f"{name}.json").write_text(json.dumps(cfg), encoding="utf-8")
        proc = spawn(
            in_netns(
                self.topo.ns(host),
                [sys.executable, "-m", "hacompile.lab.probe", str(self.dir / f"{name}.json")],
            ),
            self.dir / f"{name}.log",
            py_env(),
            True,
        )
        self.procs.append(proc)
        wait_ready(proc, f"{host} probe")

    def probe_targets(self) -> list[dict[str, str]]:
        """Every EIP's lab address on the first HTTP frontend's port (else the first's)."""
        fes = self.plan.haproxy.frontends
        port = next((f.port for f in fes if f.mode == "http"), fes[0].port)
        return [{"eip": e.key, "url": f"http://{e.address}:{port}/"} for e in self.topo.eips]

    def vip_probe_targets(self) -> list[dict[str, str]]:
        """Every private VIP on the first HTTP frontend's port (else the first's): HAProxy
        binds every address, the VIP among them once Keepalived added it."""
        fes = self.plan.haproxy.frontends
        port = next((f.port for f in fes if f.mode == "http" and not f.crts), fes[0].port)
        return [{"eip": v.key, "url": f"http://{v.address}:{port}/"} for v in self.topo.vips]

    def observer(self) -> Observer:
        return Observer(
            JsonlTail(self.dir / "events.jsonl"),
            JsonlTail(self.dir / "probe.jsonl"),
            self.dir / "cloud.sock",
            lambda lb, eip: self.lbs[lb].state(eip),
            JsonlTail(self.dir / "vprobe.jsonl"),
        )

    def start_cloud(self) -> None:
        """The cloud host (EC2 API, edge), and the IDs it created for the topology.

        With a bring-your-own-network spec the cloud first creates the existing network;
        the lab then compiles the spec's copy with its IDs and runs that bundle, and the LBs'
        interfaces go into that network (checked here: hacompile.lab.byo.check_network)."""
        byo = self.byo
        proc = setup_cloud.spawn_cloud(
            self.topo, self.dir, byo.existing.cloud_config(self.dir) if byo else None
        )
        self.procs.append(proc)
        if byo is not None:
            self.created = setup_cloud.wait_for_ids(proc, self.dir, "existing.json")
            self._adopt(byo, byo.compile(self.created))
            (self.dir / "existing.go").touch()
        self.ids = setup_cloud.wait_for_ids(proc, self.dir)
        if byo is not None:
            problems = self.network_problems()
            if problems:
                raise LabError("the tier is not in the existing network: " + "; ".join(problems))

    def _adopt(self, byo: Byo, copy: LabBuild) -> None:
        """Run the copy's bundle from now on: it must lay the lab out as the spec did and
        name the created IDs (and no longer the spec's)."""
        if not byo.same_layout(self.plan, copy.plan, self.region_index, self.prefix):
            raise LabError("the spec's copy with the created IDs plans other addresses")
        problems = check_bundle(copy.bundle_dir, byo.existing, self.created)
        if problems:
            raise LabError("the copy's bundle: " + "; ".join(problems))
        self.plan, self.bundle = copy.plan, copy.bundle_dir
        self.substitutions.extend(substitutions(byo.existing, self.created))

    def network(self) -> dict[str, Any]:
        """The account as the lab's EC2 reports it (VPCs, subnets, interfaces, routes)."""
        got: dict[str, Any] = cloud_call(self.dir / "cloud.sock", {"op": "network"})
        if "error" in got:
            raise LabError(f"cloud host: {got['error']}")
        return got

    def network_problems(self) -> list[str]:
        """What is wrong with the existing network now ([] for a spec without one)."""
        report = self.network_report()
        return list(report["problems"]) if report else []

    def network_report(self) -> dict[str, Any] | None:
        """hacompile.lab.byo.summary of the account now; None for a spec without one."""
        if self.byo is None:
            return None
        return summary(self.network(), self.byo.existing, self.created, self.topo, self.ids["enis"])

    # ---- the bundle's artefacts -------------------------------------------------------------
    def render_and_prepare(self, user: str) -> None:
        """The bundle's configs rendered for each LB, its scripts installed, and the LBs'
        hosts assembled (not yet booted)."""
        extra, reasons = setup_lbs.render_overrides(self.plan)
        rendered = render(self.bundle, self.topo, self.ids, self.dir / "render", extra, reasons)
        self.substitutions.extend(rendered.substitutions)
        placeholders = setup_lbs.install_shared(
            self.plan, self.bundle, self.topo, self.dir, self.note
        )
        hosts_file = setup_lbs.hosts_file(self.topo, self.dir, self.note)
        interval = self.plan.keepalived.reconcile_interval
        if interval:
            self.note(
                f"hacompile-eip-reconcile.timer -> a bounded loop every {interval}s as "
                f"{user}, only while keepalived runs (the unit's Requisite=; no systemd here)"
            )
        site = setup_lbs.LbSite(
            self.plan, self.topo, self.dir, user, placeholders, hosts_file, self.claim_env
        )
        for key, value in sorted(self.claim_env.items()):
            self.note(f"{key}={value} for every claim")
        for index, lb in enumerate(self.topo.lbs):
            d = setup_lbs.lb_dir(site, lb.key, rendered.dirs[lb.key])
            self._serve_imds(d, setup_lbs.lb_metadata(self.topo, self.ids, lb.key), index, lb.key)
            sock, log_socket = setup_lbs.syslog(d)
            self.sockets.append(sock)
            self.lbs[lb.key] = setup_lbs.lb_host(site, lb.key, d, log_socket)

    def _serve_imds(self, d: Path, md: dict[str, str], index: int, key: str) -> None:
        """Serve `md` as IMDSv2 to LB number `index` and wait until it answers: the one way
        both labs start a host's metadata service."""
        proc = setup_cloud.spawn_imds(self.topo, d, md, index)
        self.procs.append(proc)
        wait_ready(proc, f"{key} IMDS")
