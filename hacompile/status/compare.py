"""The plan against EC2's facts for one region: who holds each address, how each LB is.

The plan decides who should hold what (Eip.master, Vip.master and Vip.holders); EC2 says who
does. An interface is a load balancer's when it is ours (hacompile.status.read) and its
primary private IP is that LB's, which the plan fixed: so an address is mapped to its LB even
where the instance is gone, and an association's private IP is never trusted (moto 5.2.1
reports the interface's primary IP there, whatever slot was asked for). Anything at an
interface of no LB is named by the interface's ID.

Drift is every address not at its owner alone, every load balancer whose instance is not
running, and every address at a load balancer that is not among its holders.
"""

from __future__ import annotations

from hacompile.plan.model import Eip, LoadBalancer, Region, Vip
from hacompile.status.model import AddressStatus, Facts, Instance, LbStatus, RegionStatus

__all__ = ["compare"]


def _and(items: tuple[str, ...] | list[str]) -> str:
    return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + f" and {items[-1]}"


class _Holders:
    """Interface or instance ID -> the label of its holder: an LB key, else the ID."""

    def __init__(self, region: Region, facts: Facts) -> None:
        by_ip = {lb.private_ip: lb.key for lb in region.load_balancers}
        self.eni: dict[str, str] = {
            e.id: by_ip[e.primary_ip] for e in facts.enis if e.ours and e.primary_ip in by_ip
        }
        self.instance: dict[str, str] = {
            e.instance_id: self.eni[e.id] for e in facts.enis if e.instance_id and e.id in self.eni
        }

    def of(self, eni_id: str, instance_id: str = "") -> str:
        if eni_id:
            return self.eni.get(eni_id, eni_id)
        return self.instance.get(instance_id, instance_id)


def compare(region: Region, facts: Facts) -> RegionStatus:
    holders = _Holders(region, facts)
    lbs = [lb.key for lb in region.load_balancers]
    addresses = [_eip(region, e, facts, holders) for e in region.eips]
    for vip in region.vips:
        if vip.strategy == "route":
            addresses.append(_route_vip(vip, facts, holders))
        else:
            addresses.append(_secondary_vip(vip, facts, holders))
    addresses = [_check_holders(a, region, lbs) for a in addresses]
    lb_status = [_lb(region, lb, facts, holders, addresses) for lb in region.load_balancers]
    drift = [
        f"{region.name} {a.name} ({a.address or 'no address'}): {a.problem}"
        for a in addresses
        if a.problem
    ]
    drift += [f"{region.name} {lb.name}: {lb.problem}" for lb in lb_status if lb.problem]
    deployments = sorted({a.deployment for a in facts.addresses})
    if len(deployments) > 1:
        drift.append(
            f"{region.name}: Elastic IPs of {len(deployments)} deployments are named "
            f"{region.names.prefix}*: {', '.join(deployments)}"
        )
    return RegionStatus(region.name, tuple(addresses), tuple(lb_status), tuple(drift))


def _eip(region: Region, eip: Eip, facts: Facts, holders: _Holders) -> AddressStatus:
    name = f"{region.names.prefix}{eip.key}"
    found = [a for a in facts.addresses if a.name == name]
    now = tuple(sorted({holders.of(a.eni_id, a.instance_id) for a in found} - {""}))
    status = AddressStatus(
        eip.key, "eip", "eip", ", ".join(a.public_ip for a in found), eip.master, now
    )
    if not found:
        return status._replace(
            problem=f"should be at {eip.master}, but no Elastic IP is tagged Name={name}"
        )
    if len(found) > 1:
        return status._replace(
            problem=f"should be at {eip.master}, but {len(found)} Elastic IPs are tagged "
            f"Name={name} (at {_and(now) or 'none'})"
        )
    if not now:
        return status._replace(problem=f"should be at {eip.master}, is not associated")
    return _placed(status)


def _placed(status: AddressStatus) -> AddressStatus:
    if status.now == (status.should,):
        return status
    return status._replace(problem=f"should be at {status.should}, is at {_and(status.now)}")


def _route_vip(vip: Vip, facts: Facts, holders: _Holders) -> AddressStatus:
    tables = list(vip.route_tables) + (list(facts.own_tables) if vip.own_route_table else [])
    status = AddressStatus(vip.name, "vip", "route", vip.address, vip.master, ())
    if not tables:
        return status._replace(
            problem=f"should be at {vip.master}, but no route table of the bundle was found"
        )
    notes: list[str] = []
    now: set[str] = set()
    for table in tables:
        if table not in facts.tables:
            notes.append(f"route table {table} does not exist")
            continue
        route = [
            r for r in facts.routes if r.table_id == table and r.destination == f"{vip.address}/32"
        ]
        if not route:
            notes.append(f"{table} has no route to {vip.address}/32")
        elif route[0].state != "active":
            notes.append(f"{table}'s route to it is {route[0].state}")
        else:
            now.add(holders.of(route[0].eni_id, route[0].instance_id))
    status = _placed(status._replace(now=tuple(sorted(now))))
    if not notes:
        return status
    where = f"is at {_and(status.now)}" if status.now else "is routed nowhere"
    return status._replace(problem=f"should be at {vip.master}, {where} ({'; '.join(notes)})")


def _secondary_vip(vip: Vip, facts: Facts, holders: _Holders) -> AddressStatus:
    """Every interface that lists the address (moto leaves a reassigned one on the old one)."""
    now = tuple(sorted({holders.of(e.id) for e in facts.enis if vip.address in e.ips}))
    status = AddressStatus(vip.name, "vip", "secondary_ip", vip.address, vip.master, now)
    if not now:
        return status._replace(problem=f"should be at {vip.master}, is assigned to no interface")
    return _placed(status)


def _check_holders(status: AddressStatus, region: Region, lbs: list[str]) -> AddressStatus:
    """An address at an LB that is not one of its holders (a VIP's `holders`; every LB is an
    EIP's), or at an interface of no LB, is said so."""
    allowed = next((v.holders for v in region.vips if v.name == status.name), tuple(lbs))
    if status.kind == "eip":
        allowed = tuple(lbs)
    strangers = [h for h in status.now if h not in allowed]
    if not strangers:
        return status
    words = []
    for h in strangers:
        if h in lbs:
            words.append(f"{h} is not one of its holders ({', '.join(allowed)})")
        else:
            words.append(f"{h} is no load balancer's interface")
    return status._replace(problem="; ".join(p for p in (status.problem, *words) if p))


def _lb(
    region: Region,
    lb: LoadBalancer,
    facts: Facts,
    holders: _Holders,
    addresses: list[AddressStatus],
) -> LbStatus:
    name = f"{region.names.prefix}{lb.key}"
    instance: Instance | None = next((i for i in facts.instances if i.name == name), None)
    enis = sorted(e for e, key in holders.eni.items() if key == lb.key)
    eni = instance.eni_id if instance and instance.eni_id else (enis[0] if enis else "")
    holds = tuple(a.name for a in addresses if lb.key in a.now)
    if instance is None:
        return LbStatus(lb.key, "", "missing", eni, holds, f"no instance is tagged Name={name}")
    problem = "" if instance.state == "running" else f"instance {instance.id} is {instance.state}"
    return LbStatus(lb.key, instance.id, instance.state, eni, holds, problem)
