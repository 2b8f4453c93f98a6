"""The spec's metrics and logs: a Prometheus endpoint on every load balancer, request IDs.

Both sections are optional and off when absent, so a spec without them compiles as before.
Kept apart from `hacompile.spec.model` (which imports the two models) so that this shape can
grow without touching the main model; the cross-field rules (a metrics port another listener
already has, a metrics port open to the internet) are `check`, called by `hacompile.spec.rules`.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from hacompile.spec import bounds
from hacompile.spec.types import Cidr, HeaderName, Port

if TYPE_CHECKING:
    from hacompile.spec.model import Spec
    from hacompile.spec.rules import Findings

SSH_PORT = 22


class MetricsSpec(BaseModel):
    """HAProxy's own Prometheus exporter at /metrics and this node's VRRP states and EIP claims
    at /metrics/vrrp, on one port that the security group and an HAProxy ACL open only to
    `cidrs` (docs/metrics.md)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    port: Port = 8405
    cidrs: Annotated[
        list[Cidr],
        Field(min_length=1, max_length=bounds.MAX_CIDRS, description=bounds.METRICS_CIDRS),
    ]


class LogsSpec(BaseModel):
    """HTTP request logs (to the journal, through /dev/log) that end with a request ID, the same
    ID HAProxy sends to the backend in `request_id_header`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    request_id_header: HeaderName = "X-Request-ID"


def check(spec: Spec, found: Findings) -> None:
    """The metrics port is nobody else's and not open to the internet; the exporter exists."""
    # Imported here: hacompile.spec.safety imports the model, which imports this module.
    from hacompile.spec import safety

    metrics = spec.metrics
    if metrics is None:
        return
    at = ("metrics", "port")
    if metrics.port == SSH_PORT:
        found.add(at, "port 22 is SSH on the load balancers")
    if any(fe.port == metrics.port for fe in spec.haproxy.frontends):
        found.add(at, f"metrics port {metrics.port} is also a frontend")
    if spec.haproxy.stats and spec.haproxy.stats.port == metrics.port:
        found.add(at, f"metrics port {metrics.port} is also the stats port")
    for ci, cidr in enumerate(metrics.cidrs):
        if IPv4Network(cidr).prefixlen == 0:
            found.add(
                ("metrics", "cidrs", ci),
                "metrics from anywhere are refused: list the networks Prometheus scrapes from",
            )
    safety.check_cidrs(metrics.cidrs, ("metrics", "cidrs"), "the metrics port", found)
    lbs = spec.load_balancers
    if lbs.flavor == "hapee" and int(lbs.hapee_version.split(".")[0]) < 2:
        found.add(
            ("load_balancers", "hapee_version"),
            f"metrics need HAProxy's prometheus-exporter service, which HAProxy 2.0 added; "
            f"HAProxy Enterprise {lbs.hapee_version} predates it: use 2.0 or later",
        )
