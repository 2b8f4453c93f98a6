"""Pass criteria that only private VIPs have: nobody but a VIP's holders ever holds it.

Why apart from the runner: an EIP may land on any load balancer of the region, a VIP only on
the ones the spec lets hold it (a secondary IP on the load balancers of its subnet: in
blueprints/internal-secondary-ip.yaml lb2, in the other zone, must never hold `db`). Both what
EC2 did (the router's moves in the events file) and what was asked of it (every forwarded
ReplaceRoute, CreateRoute or AssignPrivateIpAddresses for the VIP's address) are checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hacompile.lab.setup import Lab


def holder_problems(lab: Lab, *phases: dict[str, Any]) -> list[str]:
    """What went to a non-holder in the measured `phases` (runner.measure results)."""
    eni_lb = {v["eni_id"]: k for k, v in lab.ids["enis"].items()}
    problems: list[str] = []
    for vip in lab.topo.vips:
        for data in phases:
            for t, lb in data["moves"].get(vip.key, []):
                if lb != "none" and lb not in vip.holders:
                    problems.append(f"{vip.key} went to {lb} at +{t}s: not one of its holders")
            for call in data.get("vip_requests", []):
                lb = eni_lb.get(call["eni"], call["eni"] or "?")
                if call["vip"] == vip.address and not call["failed"] and lb not in vip.holders:
                    problems.append(f"{lb} asked EC2 for {vip.key} ({call['action']})")
    return problems
