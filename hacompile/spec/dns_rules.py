"""Cross-field rules of `dns` (hacompile.spec.dns): what Route 53 or Terraform would refuse.

- exactly one of `zone` and `zone_id`: both would be two sources of one fact, neither none;
- with `zone`, the record name must be the zone's apex or inside it (Route 53 refuses a record
  outside its zone at apply time, long after the plan looked fine);
- the health check's frontend must exist; its `path` means something only for an http frontend
  (a tcp frontend is checked by connecting), so a path set on a tcp frontend is refused.
Run from `hacompile.spec.rules.check`, reported with positions like every other rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hacompile.spec.model import Spec

if TYPE_CHECKING:
    from hacompile.spec.rules import Findings


def check(spec: Spec, found: Findings) -> None:
    dns = spec.dns
    if dns is None:
        return
    if (dns.zone is None) == (dns.zone_id is None):
        found.add(
            ("dns",),
            "name the hosted zone once: either zone (its name) or zone_id, not "
            + ("both" if dns.zone else "neither"),
        )
    if dns.zone and not (dns.name == dns.zone or dns.name.endswith("." + dns.zone)):
        found.add(("dns", "name"), f"{dns.name} is not in the zone {dns.zone}")
    _routing(spec, found)
    check_ = dns.health_check
    frontends = {f.name: f for f in spec.haproxy.frontends}
    frontend = frontends.get(check_.frontend)
    if frontend is None:
        found.add(
            ("dns", "health_check", "frontend"),
            f"no frontend {check_.frontend!r} (frontends: {', '.join(frontends)})",
        )
    elif frontend.mode == "tcp" and "path" in check_.model_fields_set:
        found.add(
            ("dns", "health_check", "path"),
            f"frontend {frontend.name} is tcp: Route 53 checks it by connecting, with no path",
        )


def _routing(spec: Spec, found: Findings) -> None:
    dns = spec.dns
    assert dns is not None
    regions = [r.name for r in spec.regions]
    if dns.routing != "multivalue" and len(regions) < 2:
        found.add(
            ("dns", "routing"),
            f"{dns.routing} routing chooses between regions, and the spec has one: use multivalue",
        )
    if dns.routing == "failover" and len(regions) > 2:
        found.add(
            ("dns", "routing"),
            f"failover routing has one primary and one secondary; the spec has {len(regions)} "
            "regions: use latency or multivalue",
        )
    if dns.primary is not None:
        if dns.routing != "failover":
            found.add(("dns", "primary"), "only failover routing has a primary region")
        elif dns.primary not in regions:
            found.add(
                ("dns", "primary"),
                f"{dns.primary} is not a region of this spec ({', '.join(regions)})",
            )
