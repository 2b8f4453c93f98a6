"""The spec's defaults that cannot be field defaults: the Keepalived checks of a spec that
lists none.

Every other default is a field default in `hacompile.spec.model`, and so shows in
`hacompile schema`. These cannot be: the HAProxy check watches the flavor's process (haproxy,
or hapee-lb for HAProxy Enterprise), which another section of the spec decides. So the model
(and the schema) keep `keepalived.checks: null`, meaning "hacompile's checks", and this module
is the one place that says what they are. They are spec objects, validated like a spec's own
checks, so the planner plans them exactly as it plans listed ones (docs/failover.md#defaults).
"""

from __future__ import annotations

from hacompile.spec.model import CheckSpec, KeepalivedSpec


def default_checks(haproxy_process: str) -> tuple[CheckSpec, ...]:
    """HAProxy at weight 0: a node whose HAProxy is dead goes to FAULT and announces priority
    0, so a backup takes over after interval x fall seconds; a weighted check would make the
    backup wait out preempt_delay as well. sshd at -4 moves an EIP after preempt_delay (the
    default priority ladder's 2-point lead is what it overcomes); the gateway at 0 is the
    split-brain guard."""
    return (
        CheckSpec(
            name="chk_haproxy", process=haproxy_process, interval=1, weight=0, fall=2, rise=2
        ),
        CheckSpec(name="chk_sshd", process="sshd", interval=5, weight=-4, fall=2, rise=1),
        CheckSpec(name="chk_gw", gateway=True, interval=3, weight=0, fall=2, rise=3),
    )


def checks_in_force(keepalived: KeepalivedSpec, haproxy_process: str) -> tuple[CheckSpec, ...]:
    """The checks a spec runs: the ones it lists (an empty list means none), else the defaults
    for the flavor whose HAProxy process is `haproxy_process`."""
    if keepalived.checks is not None:
        return tuple(keepalived.checks)
    return default_checks(haproxy_process)
