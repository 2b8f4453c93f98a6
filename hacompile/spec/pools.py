"""The demo servers a spec asks for, in the order their addresses are handed out.

Said once here because two stages count them: the subnet capacity rule (spec/rules.py) and the
plan, which places server b in zone b mod Z. Without `pools` they are `backends.demo`'s
web1..webN; with pools, each demo pool's servers follow the previous pool's, named
`<pool>-<n>`, so adding a pool at the end moves no existing server.
"""

from __future__ import annotations

from hacompile.record import Record
from hacompile.spec.model import Spec


class DemoServer(Record):
    name: str  # web1 (implicit pool) or <pool>-<n>
    pool: str  # "" for the implicit pool


def demo_servers(spec: Spec) -> tuple[DemoServer, ...]:
    if not spec.pools:
        demo = spec.backends.demo
        return tuple(DemoServer(f"web{b + 1}", "") for b in range(demo.count if demo else 0))
    return tuple(
        DemoServer(f"{pool.name}-{n + 1}", pool.name)
        for pool in spec.pools
        if pool.demo is not None
        for n in range(pool.demo.count)
    )
