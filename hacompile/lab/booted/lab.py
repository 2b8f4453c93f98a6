"""The lab with booted hosts: the same network, cloud, edge and client as the namespace lab, but
every load balancer and demo backend is a booted Debian machine that the bundle's own
`ansible-playbook site.yml` deploys over SSH from a controller namespace.

Why a subclass of the namespace lab: the fault matrix, the observer and the pass criteria are
the same; only what stands on the LB addresses differs. Every lab-only difference is an Ansible
extra var or a file of the image (a systemd drop-in, the package sources), and each is noted
with its reason.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hacompile.lab.booted import ami, metrics, tls, tls_checks
from hacompile.lab.booted.checks import Result, post_deploy
from hacompile.lab.booted.deploy import Deployment, converge
from hacompile.lab.booted.image import LOGIN_USER, base_image
from hacompile.lab.booted.machine import BootedHost
from hacompile.lab.booted.mirror import mirror, wanted
from hacompile.lab.booted.tls import TlsState
from hacompile.lab.hosts import in_netns, py_env, spawn, wait_ready
from hacompile.lab.netns import LabError
from hacompile.lab.runner import heal_timeout
from hacompile.lab.setup import Lab
from hacompile.lab.topology import CONTROLLER_IP, build
from hacompile.standins.imds import ImdsInterface, imds_metadata
from hacompile.standins.moto import aws_env

HTTP_PORT = 8080
ROLE = "hacompile-lab-lb"


@dataclass
class BootedLab(Lab):
    machines: dict[str, BootedHost] = field(default_factory=dict)
    deployment: Deployment | None = None
    extra_vars: dict[str, Any] = field(default_factory=dict)
    checks: list[Result] = field(default_factory=list)
    checks_s: float = 0.0
    tls: TlsState | None = None  # the lab's CA and stored versions (spec with `tls`)
    # Per host: its inventory name, first-boot files and whether it is a load balancer.
    first_boot: dict[str, tuple[str, dict[str, tuple[str, int]], bool]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.topo = build(
            self.plan.regions[self.region_index],
            self.prefix,
            controller=True,
            tags=self.plan.tags,
            deployment_tag_key=self.plan.deployment_tag_key,
        )

    def close(self) -> None:
        for machine in self.machines.values():
            machine.close()
        self.lbs.clear()
        super().close()

    def start(self) -> None:
        self.start_network()
        self.tls = tls.seed(self)  # in the cloud before anything fetches it
        self._lab_vars()
        image = base_image()
        hapee = self.plan.flavor.name == "hapee"
        want = wanted(
            self.bundle / "ansible", self.extra_vars, ("haproxy", "keepalived") if hapee else ()
        )
        served = mirror(image, want)
        self.note(
            f"packages: a local apt repository and wheelhouse with what the roles install "
            f"({len(want.apt)} apt names, {', '.join(want.pip) or 'no pip'}) and their "
            f"dependencies, served from the controller {CONTROLLER_IP}:{HTTP_PORT}"
        )
        self._start_controller(served)
        for index, lb in enumerate(self.topo.lbs):
            self._start_imds(index, lb.key)
        key = self._ssh_key()
        self._make_machines(image, key, hapee)
        for backend in self.topo.backends:
            if backend.name not in self.machines:  # an existing backend, not a demo host
                self.start_backend(backend.name, backend.port)
        with ThreadPoolExecutor(max_workers=len(self.machines)) as pool:
            list(pool.map(lambda m: m.boot(), self.machines.values()))
        if hapee:
            script = ami.hapee_script(self.plan.flavor)
            for lb in self.topo.lbs:
                self.machines[lb.key].run("sh", "-c", script, timeout=300)
        self.deployment = converge(self, key)
        self.checks, self.checks_s = post_deploy(self, heal_timeout(self), tls_checks.checks)
        if self.plan.observability.metrics_port and all(r.ok for r in self.checks):
            self.checks += metrics.checks(self) + tls_checks.metrics_checks(self)
        self.start_probe()

    def probe_targets(self) -> list[dict[str, str]]:
        """HTTPS when the spec terminates TLS (plain HTTP there only redirects)."""
        return tls.probe_targets(self) or super().probe_targets()

    # ---- pieces --------------------------------------------------------------------------------
    def _lab_vars(self) -> None:
        plan = self.plan
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if "haproxy_maxconn" in self.extra_vars:  # the caller's choice stands (tests)
            pass
        elif hard != resource.RLIM_INFINITY and 2 * plan.haproxy.maxconn + 200 > hard:
            self.extra_vars["haproxy_maxconn"] = (hard - 200) // 2
            self.note(
                f"haproxy_maxconn = {(hard - 200) // 2} (Ansible extra var): this machine "
                f"caps open files at {hard}; HAProxy needs 2 x maxconn "
                f"({plan.haproxy.maxconn}) descriptors"
            )
        if self.tls:
            self.extra_vars["haproxy_tls_sync_environment"] = {
                "AWS_ENDPOINT_URL": self.topo.api_url
            }
            self.note(
                f"haproxy_tls_sync_environment = AWS_ENDPOINT_URL={self.topo.api_url} "
                "(Ansible extra var): the play's own first certificate fetch reaches moto, as "
                "the timer's service does through its drop-in"
            )
        self.note(
            "Debian 12 (bookworm) stands in for Ubuntu 24.04: the only archive reachable "
            "here; same systemd, apt, OpenSSH, haproxy and keepalived packaging"
        )
        if plan.flavor.name == "hapee":
            self.note(
                f"HAPEE AMI: {plan.flavor.haproxy_service} and "
                f"{plan.flavor.keepalived_service} are Debian's haproxy 2.6 and "
                f"keepalived 2.2.7 under the AMI's unit names, paths and accounts"
            )

    def _start_controller(self, served: Path) -> None:
        names = {b.address: b.ip for b in self.topo.backends if b.address != b.ip}
        names.update({h: ip for h, ip in self._inventory_names().items()})
        cfg = {
            "mirror": str(served),
            "listen": CONTROLLER_IP,
            "http_port": HTTP_PORT,
            "names": names,
            "max_seconds": 4 * 3600,
        }
        (self.dir / "controller.json").write_text(json.dumps(cfg), encoding="utf-8")
        proc = spawn(
            in_netns(
                self.topo.ns("ctl"),
                [
                    sys.executable,
                    "-m",
                    "hacompile.lab.booted.serve",
                    str(self.dir / "controller.json"),
                ],
            ),
            self.dir / "controller.log",
            py_env(),
            True,
        )
        self.procs.append(proc)
        wait_ready(proc, "controller mirror and resolver")
        for name, ip in sorted(names.items()):
            if name in {b.address for b in self.topo.backends}:
                self.note(f"DNS: {name} -> {ip} (a lab backend), answered by the controller")

    def _inventory_names(self) -> dict[str, str]:
        region = self.plan.regions[self.region_index]
        out = {lb.host: lb.private_ip for lb in region.load_balancers}
        out.update({s.host: s.address for s in region.servers if s.host})
        return out

    def _start_imds(self, index: int, key: str) -> None:
        """IMDSv2 for one LB, with the instance role's credentials (the AWS CLI on the host
        takes them from there, as on EC2)."""
        lb, eni = self.topo.lb(key), self.ids["enis"][key]
        d = self.dir / key
        d.mkdir(parents=True, exist_ok=True)
        md = imds_metadata(
            [ImdsInterface(eni["mac"], eni["eni_id"], (lb.ip, *lb.slots), lb.subnet_cidr)],
            eni["instance_id"],
        )
        creds = aws_env(self.topo.api_url, self.topo.region)
        md["iam/security-credentials/" + ROLE] = json.dumps(
            {
                "Code": "Success",
                "Type": "AWS-HMAC",
                "LastUpdated": "2026-01-01T00:00:00Z",
                "AccessKeyId": creds["AWS_ACCESS_KEY_ID"],
                "SecretAccessKey": creds["AWS_SECRET_ACCESS_KEY"],
                "Token": "lab",
                "Expiration": "2099-01-01T00:00:00Z",
            }
        )
        md["placement/region"] = self.topo.region
        self._serve_imds(d, md, index, key)

    def _ssh_key(self) -> Path:
        key = self.dir / "controller" / "id_ed25519"
        key.parent.mkdir(mode=0o700)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hacompile-lab", "-f", str(key)],
            check=True,
            timeout=30,
        )
        return key

    def _make_machines(self, image: Path, key: Path, hapee: bool) -> None:
        region = self.plan.regions[self.region_index]
        public = key.with_suffix(".pub").read_text(encoding="utf-8")
        env = {
            "AWS_ENDPOINT_URL": self.topo.api_url,
            "HACOMPILE_EIP_PRIVATE_IP_CHECK": "eni-only",
            **self.claim_env,
        }
        flavor = self.plan.flavor
        units = [flavor.keepalived_service, "hacompile-eip-reconcile"]
        units += [tls.SYNC_UNIT] if self.tls else []
        drop_ins = dict(ami.drop_in(f"{unit}.service", env) for unit in units)
        self.note(
            f"systemd drop-ins for {', '.join(units)}: AWS_ENDPOINT_URL={self.topo.api_url} "
            "(moto behind the fault proxy), HACOMPILE_EIP_PRIVATE_IP_CHECK=eni-only (moto "
            "reports the ENI's primary IP, not the slot)"
        )
        for name, value in sorted(self.claim_env.items()):
            self.note(f"{name}={value} for every claim")
        hosts = [(lb.key, lb.host, True) for lb in region.load_balancers]
        hosts += [(s.name, s.host, False) for s in region.servers if s.host]
        for key_name, hostname, is_lb in hosts:
            files = ami.first_boot_files(
                hostname, CONTROLLER_IP, HTTP_PORT, public, f"/home/{LOGIN_USER}"
            )
            if is_lb:
                files.update(drop_ins)
            self.first_boot[key_name] = (hostname, files, is_lb)
            self._machine(key_name, image, hapee, self.dir / "hosts" / key_name)

    def _machine(self, key_name: str, image: Path, hapee: bool, d: Path) -> BootedHost:
        """Host `key_name` made from `image` in directory `d` (its disk), with its first-boot
        files, not yet booted; it replaces any host of that name in the lab's maps."""
        flavor = self.plan.flavor
        hostname, files, is_lb = self.first_boot[key_name]
        machine = BootedHost(
            key_name,
            hostname,
            self.topo.ns(key_name),
            d,
            image,
            haproxy_service=flavor.haproxy_service,
            keepalived_service=flavor.keepalived_service,
            names={"keepalived": flavor.keepalived_binary.rsplit("/", 1)[1]} if hapee else {},
        )
        machine.prepare(files)
        uid = _login_uid(image)
        machine.chown_tree(f"/home/{LOGIN_USER}/.ssh", uid, uid)
        self.machines[key_name] = machine
        if is_lb:
            self.lbs[key_name] = machine  # type: ignore[assignment]
        return machine

    def replace_host(self, key_name: str) -> BootedHost:
        """What `terraform apply -replace` does to a load balancer: the instance and its disk
        are destroyed, and a new one boots from the image with the same addresses (the plan
        fixes them) and first-boot files, and new SSH host keys. Its IDs in the emulated cloud
        stay (docs/workflow.md: on EC2 the new instance also gets a new primary ENI, which the
        re-exported inventory carries)."""
        old = self.machines[key_name]
        old.close()
        replaced = sum(1 for p in (self.dir / "hosts").glob(f"{key_name}*")) + 1
        hapee = self.plan.flavor.name == "hapee"
        machine = self._machine(
            key_name, old.image, hapee, self.dir / "hosts" / f"{key_name}-{replaced}"
        )
        machine.boot()
        if hapee:  # the AMI's HAPEE packages, as at the first start
            machine.run("sh", "-c", ami.hapee_script(self.plan.flavor), timeout=300)
        return machine

    def wait_boot_settled(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for machine in self.machines.values():
            left = max(1.0, deadline - time.monotonic())
            machine.run("systemctl", "is-system-running", "--wait", timeout=left, check=False)


def _login_uid(image: Path) -> int:
    for line in (image / "etc" / "passwd").read_text(encoding="utf-8").splitlines():
        fields = line.split(":")
        if fields[0] == LOGIN_USER:
            return int(fields[2])
    raise LabError(f"the image has no {LOGIN_USER} user")
