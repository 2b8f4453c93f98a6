"""Deploy the bundle onto the booted hosts as its README says: the Terraform-output inventory,
then `ansible-playbook site.yml`, unmodified, over SSH from the controller namespace; then the
same play again, which must change nothing.

Why run it twice: a play that reports changes on a second run either never converges or
restarts services on every run (on a load balancer, a reload per run is a risk nobody asked
for). Why from a namespace: SSH, sudo and the SSM tasks then take the path they take against
EC2; the controller reaches the hosts only over the lab's network.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hacompile.lab.netns import LabError
from hacompile.lab.render import own_route_table
from hacompile.record import Record
from hacompile.standins.moto import aws_env

if TYPE_CHECKING:
    from hacompile.lab.booted.lab import BootedLab

RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.M,
)
PLAY_TIMEOUT = 1800


class PlayRun(Record):
    seconds: float
    returncode: int
    recap: dict[str, dict[str, int]]  # host -> ok/changed/unreachable/failed
    log: Path

    @property
    def changed(self) -> int:
        return sum(r["changed"] for r in self.recap.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "returncode": self.returncode,
            "recap": self.recap,
            "log": str(self.log),
        }


class Deployment(Record):
    converge: PlayRun
    idempotence: PlayRun
    ping: PlayRun  # baseline: every host reached once (SSH, sudo, Python) from the controller

    def as_json(self) -> dict[str, Any]:
        return {
            "converge": self.converge.as_json(),
            "idempotence": self.idempotence.as_json(),
            "ping": self.ping.as_json(),
        }


def terraform_inventory(lab: BootedLab) -> dict[str, Any]:
    """What `terraform output -json ansible_inventory` prints, with the emulated cloud's IDs.
    `ansible_host` is each host's management address: the lab has no public addresses."""
    region = lab.plan.regions[lab.region_index]
    hosts: dict[str, dict[str, str]] = {}
    for lb in region.load_balancers:
        eni = lab.ids["enis"][lb.key]
        hosts[lb.host] = {
            "ansible_host": lb.private_ip,
            "instance_id": eni["instance_id"],
            "eni_id": eni["eni_id"],
        }
    for n, server in enumerate(s for s in region.servers if s.host):
        hosts[server.host] = {
            "ansible_host": server.address,
            "instance_id": "i-%017x" % (0x2AB0 + n),
        }
    eips = {
        k: {"allocation_id": e["allocation_id"], "public_ip": e["public_ip"]}
        for k, e in lab.ids["eips"].items()
    }
    group_vars: dict[str, Any] = {"hacompile_eips": eips}
    table = own_route_table(lab.ids)
    if table:  # the bundle's own route table, where a route VIP uses it
        group_vars["hacompile_route_table_id"] = table
    return {"all": {"children": {region.slug: {"vars": group_vars, "hosts": hosts}}}}


def play(
    lab: BootedLab,
    key: Path,
    name: str,
    ping: bool = False,
    playbook_file: str = "site.yml",
    args: tuple[str, ...] = (),
) -> PlayRun:
    """One `ansible-playbook site.yml` run from the controller namespace (with `ping`, one
    `ansible all -m ping` instead: the cost of reaching every host once, a baseline), or of
    `playbook_file` (maintenance.yml) with the operator's `args` (-e, --limit)."""
    from hacompile.verify.tools import executable

    playbook = executable("ansible-playbook")
    project = lab.bundle / "ansible"
    home = lab.dir / "controller"
    extra = home / "lab-extra-vars.json"
    extra.write_text(json.dumps(lab.extra_vars), encoding="utf-8")
    env = {
        "PATH": f"{playbook.parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PRIVATE_KEY_FILE": str(key),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
        # ssh reads known_hosts from the passwd home, not $HOME: keep the lab's host keys
        # in the lab (appended to the bundle's own ssh_args, which stay as they are).
        "ANSIBLE_SSH_EXTRA_ARGS": f"-o UserKnownHostsFile={home / 'known_hosts'}",
        **aws_env(lab.topo.api_url, lab.topo.region),
    }
    cmd = ["ip", "netns", "exec", lab.topo.ns("ctl"), str(playbook), playbook_file]
    if ping:
        cmd[4:] = [str(playbook.parent / "ansible"), "all", "-m", "ansible.builtin.ping"]
    elif lab.extra_vars:
        cmd += ["-e", f"@{extra}"]
    cmd += list(args)
    log = lab.dir / f"ansible-{name}.log"
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as fh:
        try:
            proc = subprocess.run(
                cmd,
                cwd=project,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=PLAY_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LabError(
                f"ansible-playbook ({name}) ran over {PLAY_TIMEOUT}s; see {log}"
            ) from None
    seconds = time.monotonic() - started
    text = log.read_text(encoding="utf-8", errors="replace")
    recap = {
        m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
        for m in RECAP.finditer(text)
    }
    if ping:
        recap = {
            h: {"ok": 1, "changed": 0, "unreachable": 0, "failed": 0}
            for h in re.findall(r"^(\S+) \| SUCCESS", text, re.M)
        }
    return PlayRun(seconds, proc.returncode, recap, log)


def converge(lab: BootedLab, key: Path) -> Deployment:
    """Inventory, converge, idempotence run; LabError (with the log's tail) if either fails."""
    region = lab.plan.regions[lab.region_index]
    inventory = lab.bundle / "ansible" / "inventory" / f"terraform-{region.name}.json"
    inventory.write_text(json.dumps(terraform_inventory(lab), indent=2), encoding="utf-8")
    lab.note(
        f"inventory {inventory.name}: the shape of `terraform output -json "
        "ansible_inventory`, IDs from the emulated cloud, ansible_host = management IP"
    )
    first = play(lab, key, "converge")
    _require(first, "converge")
    second = play(lab, key, "idempotence")
    _require(second, "idempotence")
    if second.changed:
        raise LabError(
            f"the second run is not idempotent: changed="
            f"{ {h: r['changed'] for h, r in second.recap.items()} }; "
            f"see {second.log}"
        )
    baseline = play(lab, key, "ping", ping=True)
    return Deployment(first, second, baseline)


def _require(run: PlayRun, name: str) -> None:
    bad = {h: r for h, r in run.recap.items() if r["failed"] or r["unreachable"]}
    if run.returncode != 0 or bad or not run.recap:
        tail = run.log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise LabError(f"ansible-playbook ({name}) failed (exit {run.returncode}): {tail}")
