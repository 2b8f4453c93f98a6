"""Render a bundle's load-balancer configs with Ansible itself, from fixture IDs.

Why Ansible and not Jinja2 here: the roles' `.j2` templates are rendered at deploy time by
Ansible, with Ansible's variable precedence (role defaults < inventory < facts < extra vars),
its filters and its `ansible_managed`. Rendering them any other way would test a copy. So this
module runs a local play (connection local, no fact gathering) over a scratch copy of the
bundle's ansible/ directory, with two stand-ins for what only exists after deployment:

- the Terraform-output inventory (`terraform-<region>.json`: per LB `eni_id`, `instance_id`,
  `ansible_host`; per region `hacompile_eips`), built from an inventory.RegionFixture, and
- the facts the roles read (`ansible_default_ipv4`: the LB's management IP on `interface`),
  plus `keepalived_auth_source: provided` with fixed 8-character passwords instead of SSM.

The play includes each role with `tasks_from` a small render-only task file written into the
scratch copy, so role defaults apply exactly as in the real run and the real templates are used.
`ansible-playbook` is found the way `hacompile verify` finds its tools (hacompile.verify.tools),
and its absence raises verify's `Unavailable`: verify reports it as "not available", the lab
names what to install.

API (used by `hacompile verify` and by the failover lab; the first two from inventory):

    lbs = lb_hosts(bundle, region)                     # what the inventory says
    fixture = fixture_for(bundle, region)              # deterministic fake IDs (or your own)
    rendered = render_region(bundle, region, out_dir, fixture)
    rendered[0].keepalived_conf, .haproxy_cfg, .eip_env["eip1"]

Output layout: out_dir/<region>/<inventory host>/{keepalived.conf, haproxy.cfg, eip/<name>.env}.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from hacompile.standins.inventory import (
    LbHost,
    RegionFixture,
    fixture_for,
    lb_hosts,
    region_groups,
    terraform_inventory,
)
from hacompile.verify.base import run_tool
from hacompile.verify.tools import executable

__all__ = [
    "DEFAULT_INTERFACE",
    "RenderError",
    "RenderedLb",
    "render_bundle",
    "render_region",
]

DEFAULT_INTERFACE = "ens5"  # what Ubuntu on Nitro instances names the primary ENI

_PLAYBOOK = """---
- name: Render the load balancers' configs (hacompile verify; connection local)
  hosts: "{{ hacompile_render_hosts }}"
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  pre_tasks:
    - name: Stand in for the facts the roles read
      ansible.builtin.set_fact:
        ansible_default_ipv4:
          address: "{{ keepalived_unicast_src_ip }}"
          interface: "{{ hacompile_render_interface }}"
  tasks:
    - name: Render the HAProxy config
      ansible.builtin.include_role:
        name: haproxy
        tasks_from: hacompile_render.yml
    - name: Render the Keepalived config and the EIP settings
      ansible.builtin.include_role:
        name: keepalived
        tasks_from: hacompile_render.yml
    # The last result per host is what the tree callback leaves in its file for that host.
    - name: Hand everything rendered back to hacompile
      ansible.builtin.debug:
        msg:
          haproxy.cfg: "{{ hacompile_render_haproxy }}"
          keepalived.conf: "{{ hacompile_render_keepalived }}"
          eip: "{{ hacompile_render_eip | default({}) }}"
"""

# Render-only task files, dropped into the scratch copy's roles. The `template` lookup inside
# a role resolves the role's own templates/ and sets `ansible_managed` like the template
# module, and set_fact runs on the controller: one module run per host (the final copy of a
# JSON of everything rendered) instead of several per file keeps rendering fast.
_HAPROXY_TASKS = """---
- name: Render haproxy.cfg
  ansible.builtin.set_fact:
    hacompile_render_haproxy: "{{ lookup('ansible.builtin.template', 'haproxy.cfg.j2') }}"
"""

_KEEPALIVED_TASKS = """---
- name: Render keepalived.conf
  ansible.builtin.set_fact:
    hacompile_render_keepalived: "{{ lookup('ansible.builtin.template', 'keepalived.conf.j2') }}"
- name: Render one settings file per EIP
  ansible.builtin.set_fact:
    hacompile_render_eip: >-
      {{ hacompile_render_eip | default({}) | combine({item.name:
      lookup('ansible.builtin.template', 'eip.env.j2')}) }}
  loop: "{{ keepalived_instances }}"
"""


class RenderError(RuntimeError):
    """ansible-playbook failed; the message carries its output."""


@dataclass(frozen=True)
class RenderedLb:
    lb: LbHost
    directory: Path
    keepalived_conf: Path
    haproxy_cfg: Path
    eip_env: Mapping[str, Path] = field(default_factory=dict)  # instance name -> env file
    interface: str = DEFAULT_INTERFACE


def render_bundle(
    bundle: Path,
    out_dir: Path,
    fixtures: Mapping[str, RegionFixture] | None = None,
    *,
    regions: Sequence[str] | None = None,
    interface: str = DEFAULT_INTERFACE,
    timeout: float = 300,
    extra_vars: Mapping[str, Any] | None = None,
) -> tuple[RenderedLb, ...]:
    """Render every LB of `regions` (default: all) in one ansible-playbook run.

    `fixtures` maps region -> RegionFixture; missing regions get `fixture_for`. `extra_vars`
    are passed with -e (the failover lab's stand-ins, e.g. a lower maxconn). Raises
    `Unavailable` without ansible-playbook, `RenderError` when the play fails.
    """
    playbook = executable("ansible-playbook")
    bundle = bundle.resolve()
    out_dir = out_dir.resolve()
    groups = region_groups(bundle)
    chosen = list(regions) if regions is not None else list(groups)
    fixtures = dict(fixtures or {})
    for region in chosen:
        fixtures.setdefault(region, fixture_for(bundle, region))
    scratch = Path(tempfile.mkdtemp(prefix="hacompile-render-"))
    try:
        project = scratch / "ansible"
        shutil.copytree(
            bundle / "ansible",
            project,
            ignore=shutil.ignore_patterns(".ansible", "terraform-*.json"),
        )
        (project / "hacompile-render.yml").write_text(_PLAYBOOK, encoding="utf-8")
        (scratch / "out").mkdir()
        (project / "roles/haproxy/tasks/hacompile_render.yml").write_text(_HAPROXY_TASKS)
        (project / "roles/keepalived/tasks/hacompile_render.yml").write_text(_KEEPALIVED_TASKS)
        for region in chosen:
            inv = terraform_inventory(region, groups[region][0], fixtures[region])
            (project / "inventory" / f"terraform-{region}.json").write_text(json.dumps(inv))
        extra = {
            "hacompile_render_hosts": ":".join(f"{groups[r][0]}_lb" for r in chosen),
            "hacompile_render_interface": interface,
            "keepalived_auth_source": "provided",
            **(extra_vars or {}),
        }
        (scratch / "extra.json").write_text(json.dumps(extra), encoding="utf-8")
        home = scratch / "home"
        home.mkdir()
        env = {
            **os.environ,
            "PATH": f"{playbook.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(home),
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree",
            "ANSIBLE_CALLBACK_TREE_DIR": str(scratch / "out"),
        }
        proc = run_tool(
            [
                str(playbook),
                "-i",
                "inventory",
                "hacompile-render.yml",
                "-e",
                f"@{scratch / 'extra.json'}",
            ],
            cwd=project,
            env=env,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise RenderError(
                f"ansible-playbook failed ({proc.returncode}):\n"
                + (proc.stdout + proc.stderr)[-4000:]
            )
        rendered = []
        for region in chosen:
            for lb in lb_hosts(bundle, region):
                rendered.append(
                    _write_host(
                        lb, scratch / "out" / lb.host, out_dir / region / lb.host, interface
                    )
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return tuple(rendered)


def _write_host(lb: LbHost, result: Path, directory: Path, interface: str) -> RenderedLb:
    """Write one host's rendered files (from the play's JSON) into `directory`."""
    try:
        data = json.loads(result.read_text(encoding="utf-8"))["msg"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RenderError(f"{lb.host}: the play produced no result ({exc})") from None
    (directory / "eip").mkdir(parents=True, exist_ok=True)
    files = {"keepalived.conf": 0o600, "haproxy.cfg": 0o644}
    for name, mode in files.items():
        path = directory / name
        path.write_text(data[name], encoding="utf-8")
        path.chmod(mode)
    envs = {}
    for instance in lb.instances:
        path = directory / "eip" / f"{instance.name}.env"
        path.write_text(data["eip"][instance.name], encoding="utf-8")
        path.chmod(0o644)
        envs[instance.name] = path
    return RenderedLb(
        lb, directory, directory / "keepalived.conf", directory / "haproxy.cfg", envs, interface
    )


def render_region(
    bundle: Path,
    region: str,
    out_dir: Path,
    fixture: RegionFixture | None = None,
    *,
    interface: str = DEFAULT_INTERFACE,
    timeout: float = 300,
    extra_vars: Mapping[str, Any] | None = None,
) -> tuple[RenderedLb, ...]:
    """Render each LB of one region: keepalived.conf, haproxy.cfg and one EIP env file each."""
    fixtures = {region: fixture} if fixture is not None else None
    return render_bundle(
        bundle,
        out_dir,
        fixtures,
        regions=[region],
        interface=interface,
        timeout=timeout,
        extra_vars=extra_vars,
    )


_LUA_LOAD = re.compile(r"^(\s*lua-load\s+)(\S+)$", re.MULTILINE)


def bundled_lua(text: str, bundle: Path) -> str:
    """A rendered haproxy.cfg whose `lua-load` names the bundle's own copy of the file: the
    haproxy role installs roles/haproxy/files/NAME at the path the config names, which a
    machine that did not run the play lacks (verify's `haproxy -c`, the namespace lab)."""
    files = bundle / "ansible" / "roles" / "haproxy" / "files"
    return _LUA_LOAD.sub(lambda m: m[1] + str(files / PurePosixPath(m[2]).name), text)
