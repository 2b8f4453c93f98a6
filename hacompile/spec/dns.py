"""DNS for the tier: Route 53 records of the EIPs, each behind a health check of a frontend.

Why multivalue answers with health checks: clients should reach the tier by name, and a dead EIP
(both of its load balancers down, or a region lost) must leave the answer set without anyone
editing DNS. Route 53 answers a multivalue query with up to eight healthy records, so one record
per EIP, each with its own health check of one frontend (HTTP: a path and a 2xx/3xx answer; TCP:
a connection), drops exactly the EIPs that do not serve. Every region's records share the name,
so the set spans regions. Only the deploying principal (Terraform) touches Route 53: the load
balancers' role has no Route 53 permission at all.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hacompile.spec.types import HttpPath, Identifier, RegionName

__all__ = ["DnsHealthCheckSpec", "DnsSpec"]

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")


def _dns_name(value: str) -> str:
    name = value.removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise ValueError(
            f"{value!r} is no DNS name: dot-separated labels of lower-case letters, digits and "
            "'-' (at most 63 each, not starting or ending with '-'), at least two labels"
        )
    return name


def _zone_id(value: str) -> str:
    if not _ZONE_ID.fullmatch(value):
        raise ValueError(f"{value!r} is no Route 53 hosted zone ID (Z followed by A-Z, 0-9)")
    return value


DnsName = Annotated[str, AfterValidator(_dns_name)]
ZoneId = Annotated[str, AfterValidator(_zone_id)]


class _Strict(BaseModel):
    # The same configuration as hacompile.spec.model.Strict (which imports this module).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DnsHealthCheckSpec(_Strict):
    """What Route 53 checks on each EIP: a frontend (HTTP for an http frontend, with `path`;
    TCP for a tcp one), every `interval` seconds (10 or 30) from its checkers around the world;
    `failure_threshold` failed checks in a row take the EIP's record out of the answers."""

    frontend: Identifier
    path: HttpPath = "/"
    interval: Literal[10, 30] = 30
    failure_threshold: Annotated[int, Field(ge=1, le=10)] = 3


class DnsSpec(_Strict):
    """One multivalue A record per EIP on `name`, in a public hosted zone given by its name
    (`zone`) or ID (`zone_id`).

    `routing` across regions: `multivalue` (default) answers with the healthy EIPs of every
    region alike; `latency` and `failover` put each region's EIPs on a name of their own,
    `<region>.<name>`, and answer `name` with one region's set: the one nearest the resolver
    (latency), or `primary` while any of its EIPs is healthy, else the other (failover; two
    regions)."""

    zone: DnsName | None = None
    zone_id: ZoneId | None = None
    name: DnsName
    ttl: Annotated[int, Field(ge=1, le=86400)] = 60
    health_check: DnsHealthCheckSpec
    routing: Literal["multivalue", "latency", "failover"] = "multivalue"
    # failover: the region answered while it is healthy; omitted: the first region.
    primary: RegionName | None = None
