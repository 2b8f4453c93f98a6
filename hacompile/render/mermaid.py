"""The bundle README's architecture diagram, as Mermaid text built from the plan.

Code hosts (GitHub, GitLab) render a ```mermaid block as a picture: regions and zones as boxes,
each load balancer in its zone, each EIP with a thick MASTER edge to its owner and dotted
BACKUP edges (with priorities) to the others, the backends, and the request path from clients
through an EIP and HAProxy to the backends. Built in Python, not in the template, because node
ids and edge syntax are a small language of their own; every name in it passed the spec's
character rules, so nothing needs escaping.
"""

from __future__ import annotations

from hacompile.plan.model import Plan, Region

MAX_BACKEND_NODES = 6  # beyond this, one summary node keeps the picture readable


def _id(*parts: str) -> str:
    return "_".join(p.replace("-", "_").replace(".", "_") for p in parts)


def _region(plan: Plan, region: Region) -> list[str]:
    r = region.slug
    lines = [f'  subgraph {r}["{region.name} · VPC {region.vpc_cidr}"]', "    direction LR"]
    for eip in region.eips:
        lines.append(f'    {_id(r, eip.key)}(["{eip.key} (Elastic IP)"])')
    summarise = len(region.servers) > MAX_BACKEND_NODES
    for subnet in region.subnets:
        lines.append(f'    subgraph {_id(r, "zone", subnet.key)}["{subnet.zone} · {subnet.cidr}"]')
        for lb in region.load_balancers:
            if lb.subnet_key == subnet.key:
                lines.append(
                    f'      {_id(r, lb.key)}["{lb.key} · {lb.private_ip}<br/>HAProxy + Keepalived"]'
                )
        if not summarise:
            for s in region.servers:
                if s.subnet_key == subnet.key:
                    lines.append(f'      {_id(r, s.name)}["{s.name} · {s.address}:{s.port}"]')
        lines.append("    end")
    if summarise:
        lines.append(
            f'    {_id(r, "backends")}["{len(region.servers)} backends, port {plan.backend_port}"]'
        )
    else:
        for s in region.servers:
            if not s.subnet_key:
                lines.append(f'    {_id(r, s.name)}["{s.name} · {s.address}:{s.port}"]')
    lines.append("  end")
    return lines


def _edges(region: Region) -> list[str]:
    r = region.slug
    lines = [f"  clients --> {_id(r, eip.key)}" for eip in region.eips]
    for eip in region.eips:
        for lb in region.load_balancers:
            instance = next(i for i in lb.instances if i.name == eip.key)
            if instance.master:
                lines.append(
                    f'  {_id(r, eip.key)} == "MASTER {instance.priority}" ==> {_id(r, lb.key)}'
                )
            else:
                lines.append(
                    f'  {_id(r, eip.key)} -. "BACKUP {instance.priority}" .-> {_id(r, lb.key)}'
                )
    targets = (
        [_id(r, "backends")]
        if len(region.servers) > MAX_BACKEND_NODES
        else [_id(r, s.name) for s in region.servers]
    )
    for lb in region.load_balancers:
        lines += [f"  {_id(r, lb.key)} --> {target}" for target in targets]
    return lines


def diagram(plan: Plan) -> str:
    """A Mermaid flowchart of the whole bundle (without the ``` fence)."""
    lines = ["flowchart LR", '  clients(["Clients (DNS names point at the EIPs)"])']
    for region in plan.regions:
        lines += _region(plan, region)
    for region in plan.regions:
        lines += _edges(region)
    return "\n".join(lines) + "\n"
