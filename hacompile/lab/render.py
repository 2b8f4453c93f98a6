"""The bundle's own LB artefacts for the lab, rendered by Ansible from the bundle's roles.

Why Ansible and not a re-implementation: the lab must exercise what `ansible-playbook site.yml`
would put on a load balancer. The bundle's ansible/ directory is copied, the IDs moto handed out
are written as the `terraform-<region>.json` inventory Terraform would export, and a small
playbook includes the keepalived and haproxy roles with a lab task file (`hclab-render.yml`,
added to the copy only) that runs the roles' own `template` steps into a directory instead of
/etc. Role defaults, generated inventory, group_vars and precedence are Ansible's own.
Lab-only values (facts, VRRP passwords, users that do not exist here) go in as extra vars and
each one is reported as a substitution.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hacompile.lab.netns import LabError, sh
from hacompile.lab.topology import Topology

PLAYBOOK = """\
- name: Render the LB artefacts for hacompile lab
  hosts: lb
  connection: local
  gather_facts: false
  tasks:
    - name: HAProxy role templates
      ansible.builtin.include_role:
        name: haproxy
        tasks_from: hclab-render.yml
    - name: Keepalived role templates
      ansible.builtin.include_role:
        name: keepalived
        tasks_from: hclab-render.yml
"""

HAPROXY_TASKS = """\
- name: Directory
  ansible.builtin.file: {path: "{{ hclab_out }}/{{ inventory_hostname }}/eip", state: directory}
- name: haproxy.cfg
  ansible.builtin.template:
    src: haproxy.cfg.j2
    dest: "{{ hclab_out }}/{{ inventory_hostname }}/haproxy.cfg"
    mode: "0644"
"""

KEEPALIVED_TASKS = """\
- name: EIP settings
  ansible.builtin.template:
    src: eip.env.j2
    dest: "{{ hclab_out }}/{{ inventory_hostname }}/eip/{{ item.name }}.env"
    mode: "0644"
  loop: "{{ keepalived_instances }}"
- name: keepalived.conf
  ansible.builtin.template:
    src: keepalived.conf.j2
    dest: "{{ hclab_out }}/{{ inventory_hostname }}/keepalived.conf"
    mode: "0600"
"""


@dataclass(frozen=True)
class Rendered:
    """Per LB key, the directory holding keepalived.conf, haproxy.cfg and eip/*.env."""

    dirs: dict[str, Path]
    substitutions: tuple[str, ...]


def ansible_playbook() -> Path:
    from hacompile.verify.base import Unavailable
    from hacompile.verify.tools import executable

    try:
        return executable("ansible-playbook")
    except Unavailable as exc:
        raise LabError(f"{exc}; the lab renders configs with Ansible (.ci/install-lab.sh)") \
            from None


def render(bundle: Path, topo: Topology, ids: dict[str, Any], out: Path,
           extra: dict[str, Any], reasons: dict[str, str]) -> Rendered:
    """Render every LB of `topo` from `bundle` (a written bundle directory) into `out`."""
    work = out / "ansible"
    shutil.copytree(bundle / "ansible", work)
    (work / "hclab-render.yml").write_text(PLAYBOOK, encoding="utf-8")
    (work / "roles/haproxy/tasks/hclab-render.yml").write_text(HAPROXY_TASKS, encoding="utf-8")
    (work / "roles/keepalived/tasks/hclab-render.yml").write_text(KEEPALIVED_TASKS,
                                                                   encoding="utf-8")
    slug = topo.region.replace("-", "_")
    hosts = {}
    for lb in topo.lbs:
        eni = ids["enis"][lb.key]
        hosts[lb.inventory_host] = {
            "ansible_host": lb.ip, "instance_id": eni["instance_id"], "eni_id": eni["eni_id"],
            # Facts the templates read (no fact gathering in the lab).
            "ansible_default_ipv4": {"address": lb.ip, "interface": "eth0"},
            "ansible_python_interpreter": sys.executable,
        }
    inventory = {"all": {"children": {slug: {
        "vars": {"hacompile_eips": ids["eips"]}, "hosts": hosts}}}}
    inv_file = work / "inventory" / f"terraform-{topo.region}.json"
    inv_file.write_text(json.dumps(inventory, indent=1), encoding="utf-8")
    extra_file = out / "extra-vars.json"
    extra_file.write_text(json.dumps({"hclab_out": str(out / "hosts"), **extra}),
                          encoding="utf-8")
    tool = ansible_playbook()
    home = out / "ansible-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CONFIG": str(work / "ansible.cfg"),
           "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(tool), "-i", str(work / "inventory"), "-e", f"@{extra_file}",
           str(work / "hclab-render.yml")]
    _run(cmd, env, work)
    subs = [f"{name} = {json.dumps(extra[name])}: {reason}" for name, reason in reasons.items()]
    return Rendered({lb.key: out / "hosts" / lb.inventory_host for lb in topo.lbs}, tuple(subs))


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> None:
    import subprocess

    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False)
    if proc.returncode != 0:
        raise LabError(f"ansible-playbook failed ({proc.returncode}):\n{proc.stdout[-3000:]}"
                       f"{proc.stderr[-2000:]}")


__all__ = ["Rendered", "render", "sh"]
