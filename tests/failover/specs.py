"""Inline specs for the failover tests: each test writes the priorities and checks it is about.

The proof's tests used to edit a blueprint's text; a blueprint that changed its numbers (as it
should, when the advice changes) then broke tests that were about something else. These specs
hold only what the proof reads: load balancer count, flavour, priorities and checks.
"""

from __future__ import annotations

from pathlib import Path

ZONES = {2: "[us-east-1a, us-east-1b]", 3: "[us-east-1a, us-east-1b, us-east-1c]"}


def write_spec(
    tmp_path: Path,
    *,
    count: int = 2,
    flavor: str = "community",
    priority: str = "{master: 101, backup: 100}",
    preempt_delay: int = 0,
    checks: list[str] | None = None,
    name: str = "ha.yaml",
) -> Path:
    """Write a one-region spec; `checks` are flow-style list items, None leaves the defaults."""
    lines = [
        "version: 1",
        "name: proof",
        "regions:",
        "  - name: us-east-1",
        "    vpc_cidr: 10.0.0.0/16",
        f"    zones: {ZONES[count]}",
        "load_balancers:",
        f"  count: {count}",
        "  instance_type: t3.small",
        f"  flavor: {flavor}",
        # HAPEE needs a Marketplace product code to validate (hacompile/plan/amis.py)
        *(["  ami_product_code: 483gxnuft87jy44d3q8n4kvt1"] if flavor == "hapee" else []),
        "backends:",
        "  port: 80",
        "  demo: {count: 2, instance_type: t3.micro}",
        "haproxy:",
        "  frontends:",
        "    - {name: web, port: 80}",
        "keepalived:",
        "  advert_int: 1",
        f"  priority: {priority}",
        f"  preempt_delay: {preempt_delay}",
    ]
    if checks is not None:
        lines.append("  checks:")
        lines += [f"    - {check}" for check in checks]
    lines += ["access:", "  ssh_key_name: ops", "  ssh_cidrs: [203.0.113.0/24]", ""]
    out = tmp_path / name
    out.write_text("\n".join(lines))
    return out


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


# The blog's four checks (weights -4/-4/+6/0 on 101/100), with chk_lb's weight as a parameter.
def blog_checks(lb_weight: int = 6) -> list[str]:
    return [
        "{name: chk_sshd, process: sshd, interval: 5, weight: -4, fall: 2, rise: 1}",
        "{name: chk_networkd, process: systemd-network, interval: 5, weight: -4, fall: 2, rise: 1}",
        f"{{name: chk_lb, process: hapee-lb, interval: 2, weight: {lb_weight}, fall: 2, rise: 1}}",
        "{name: chk_gw, gateway: true, interval: 3, weight: 0, fall: 2, rise: 3}",
    ]


GATEWAY = "{name: chk_gw, gateway: true, interval: 2, weight: 0, fall: 2, rise: 2}"


def haproxy_check(weight: int, process: str = "haproxy") -> str:
    return (
        f"{{name: chk_haproxy, process: {process}, interval: 1, weight: {weight}, "
        "fall: 2, rise: 2}"
    )


LADDER = "{master: 110, backup: 100, step: 5}"  # three load balancers: 110, then 100, then 95
