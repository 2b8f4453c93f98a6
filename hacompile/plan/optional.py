"""The plan of the spec's optional sections: observability, DNS and remote state.

Each is None or off when the spec leaves its section out, so a spec without it plans (and
renders) exactly as before the section existed. Split from hacompile.plan.build, which plans
the core: regions, addresses, priorities, checks.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from hacompile.plan import model as p
from hacompile.spec.model import Spec

__all__ = ["dns", "observability", "state"]


def observability(spec: Spec, flavor: p.Flavor) -> p.Observability:
    metrics, logs = spec.metrics, spec.logs
    if metrics is None and logs is None:
        return p.Observability()
    return p.Observability(
        metrics_port=metrics.port if metrics else 0,
        metrics_cidrs=tuple(metrics.cidrs) if metrics else (),
        metrics_lua_path=(
            str(PurePosixPath(flavor.haproxy_config).parent / "hacompile-vrrp-metrics.lua")
            if metrics
            else ""
        ),
        request_id_header=logs.request_id_header if logs else "",
    )


def dns(spec: Spec) -> p.Dns | None:
    if spec.dns is None:
        return None
    check = spec.dns.health_check
    frontend = next(f for f in spec.haproxy.frontends if f.name == check.frontend)
    http = frontend.mode == "http"
    return p.Dns(
        zone_name=spec.dns.zone or "",
        zone_id=spec.dns.zone_id or "",
        name=spec.dns.name,
        ttl=spec.dns.ttl,
        routing=spec.dns.routing,
        primary=(spec.dns.primary or spec.regions[0].name)
        if spec.dns.routing == "failover"
        else "",
        check=p.DnsCheck(
            ("HTTPS" if frontend.tls else "HTTP") if http else "TCP",
            frontend.port,
            check.path if http else "",
            check.interval,
            check.failure_threshold,
        ),
    )


def state(spec: Spec, region: str) -> p.StateBackend | None:
    if spec.state is None:
        return None
    s3 = spec.state.s3
    prefix = s3.key_prefix or f"hacompile/{spec.name}"
    return p.StateBackend(s3.bucket, f"{prefix}/{region}/terraform.tfstate", s3.region)
