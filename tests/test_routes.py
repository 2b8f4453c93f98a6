"""Named pools and routes: what a route covers (the reachability rules), how the plan turns
routes into HAProxy ACLs, and that a spec without pools plans exactly what it did before."""

from __future__ import annotations

from pathlib import Path

import pytest

from hacompile.pipeline import compile_spec
from hacompile.plan.inventory import inventory, lb_group_vars
from hacompile.spec.routes import host_covers, path_covers
from tests.conftest import BLUEPRINTS, ROOT

ROUTED = ROOT / "blueprints" / "routed-pools.yaml"


@pytest.mark.parametrize(
    ("first", "then", "covered"),
    [
        ("/", "/anything", True),
        ("/", "/", True),
        ("/api", "/api", True),
        ("/api", "/api/", True),
        ("/api", "/api/v1", True),
        ("/api", "/apis", False),  # segments, not characters
        ("/api/", "/api", False),  # /api/ does not match /api itself
        ("/api/", "/api/v1", True),
        ("/api/v1", "/api", False),
        ("/api/v1/", "/api/v1/x", True),
    ],
)
def test_path_prefixes_cover_whole_segments(first: str, then: str, covered: bool) -> None:
    assert path_covers(first, then) is covered


@pytest.mark.parametrize(
    ("first", "then", "covered"),
    [
        (None, "api.example.com", True),
        ("api.example.com", None, False),
        ("*.example.com", "api.example.com", True),
        ("*.example.com", "example.com", False),  # a wildcard needs a label before it
        ("*.example.com", "*.eu.example.com", True),
        ("*.eu.example.com", "*.example.com", False),
        ("api.example.com", "*.example.com", False),
        ("*.example.com", "api.example.org", False),
        ("*.example.com", "badexample.com", False),
    ],
)
def test_hosts_cover_exactly_or_by_suffix(
    first: str | None, then: str | None, covered: bool
) -> None:
    assert host_covers(first, then) is covered


def test_routes_become_acls_in_order() -> None:
    plan = compile_spec(ROUTED).plan
    (http,) = plan.haproxy.frontends
    assert [(a.name, a.criterion) for a in http.acls] == [
        ("route1_host", "req.hdr(host),field(1,:),lower -m str api.example.com"),
        ("route2_host", "req.hdr(host),field(1,:),lower -m str www.example.com"),
        ("route2_path", "path -m str /api"),
        ("route2_path", "path -m beg /api/"),
        ("route3_host", "req.hdr(host),field(1,:),lower -m end .cdn.example.com"),
        ("route4_path", "path -m beg /static/"),
    ]
    assert [(r.pool, r.condition) for r in http.routes] == [
        ("api", "route1_host"),
        ("api", "route2_host route2_path"),
        ("assets", "route3_host"),
        ("assets", "route4_path"),
    ]
    assert http.default_pool == "web"


def test_pools_plan_their_backend_and_servers() -> None:
    plan = compile_spec(ROUTED).plan
    web, api, assets = plan.haproxy.pools
    assert (web.name, web.mode, web.balance, web.sticky_cookie) == (
        "web",
        "http",
        "roundrobin",
        "WEBSRV",
    )
    assert (
        web.check_path,
        web.check_status,
        web.check_interval,
        web.check_rise,
        web.check_fall,
        web.slow_start,
    ) == ("/healthz", 200, "2s", 2, 3, "30s")
    assert (api.balance, api.check_interval, api.check_rise, api.check_fall) == (
        "leastconn",
        "1s",
        1,
        2,
    )
    assert assets.slow_start == "" and assets.check_path == "/static/ping"
    (region,) = plan.regions
    assert [(s.name, s.pool) for s in region.servers] == [
        ("web-1", "web"),
        ("web-2", "web"),
        ("api-1", "api"),
        ("api-2", "api"),
        ("assets-1", "assets"),
    ]
    # Demo servers of all pools take consecutive addresses, alternating zones.
    assert [s.zone[-1] for s in region.servers] == ["a", "b", "a", "b", "a"]
    assert len({s.address for s in region.servers}) == 5
    pools = inventory(plan)["all"]["children"]["eu_west_1"]["vars"]["haproxy_pools"]
    assert {p["name"]: [s["name"] for s in p["servers"]] for p in pools} == {
        "web": ["web-1", "web-2"],
        "api": ["api-1", "api-2"],
        "assets": ["assets-1"],
    }
    hosts = inventory(plan)["all"]["children"]["eu_west_1"]["children"]["eu_west_1_backend"]
    assert hosts["hosts"]["shop-eu-west-1-api-1"] == {
        "demo_backend_port": 80,
        "demo_backend_pool": "api",
    }


@pytest.mark.parametrize(
    "spec", [p for p in BLUEPRINTS if "\npools:" not in p.read_text()], ids=lambda p: p.stem
)
def test_a_spec_without_pools_plans_no_routing(spec: object) -> None:
    """The implicit single pool: no pools, no ACLs, and group vars without the routing keys
    (so the role renders one `listen` per frontend, as before pools existed)."""
    plan = compile_spec(spec).plan  # type: ignore[arg-type]
    assert plan.haproxy.pools == ()
    assert all(
        not fe.acls and not fe.routes and not fe.default_pool for fe in plan.haproxy.frontends
    )
    assert all(
        set(fe) == {"name", "port", "mode"} for fe in lb_group_vars(plan)["haproxy_frontends"]
    )
    for region in inventory(plan)["all"]["children"].values():
        assert "haproxy_pools" not in (region.get("vars") or {})


def test_explain_lists_each_frontends_routes() -> None:
    from tests.conftest import invoke_cli

    text = invoke_cli("explain", str(ROUTED)).stdout
    assert (
        "Routes (first match wins):\n  frontend http (:80, http)\n"
        "    1. host api.example.com, any path -> api\n"
        "    2. host www.example.com, path /api -> api\n"
        "    3. host *.cdn.example.com, any path -> assets\n"
        "    4. any host, path /static/ -> assets\n"
        "    otherwise -> web\n"
    ) in text
    assert "Routes" not in invoke_cli("explain", str(BLUEPRINTS[0])).stdout


MIXED = """\
version: 1
name: mixed
regions:
  - name: us-west-2
    vpc_cidr: 10.60.0.0/16
    zones: [us-west-2a, us-west-2b]
    pools:
      app:
        - {name: app1, address: 10.60.20.11}
        - {name: app2, address: app2.internal.example.com, port: 8443}
      tls: [{name: tls1, address: 10.60.20.21, port: 443}]
pools:
  - {name: app, port: 8080, check: {path: /ready, status: 204}}
  - {name: tls, port: 443}
haproxy:
  balance: leastconn
  frontends:
    - {name: https, port: 443, mode: tcp, default_pool: tls}
    - {name: http, port: 80, routes: [{path: /, pool: app}]}
access: {ssh_key_name: k, ssh_cidrs: [203.0.113.0/24]}
"""


def test_listed_servers_a_tcp_pool_and_a_catch_all_route(tmp_path: Path) -> None:
    """Existing servers per region (one by DNS name), a tcp frontend's own pool, and an http
    frontend whose catch-all route needs no default_pool (its pool is the default)."""
    spec = tmp_path / "ha.yaml"
    spec.write_text(MIXED, encoding="utf-8")
    plan = compile_spec(spec).plan
    app, tls = plan.haproxy.pools
    assert (app.mode, app.balance, app.check_status, tls.mode) == ("http", "leastconn", 204, "tcp")
    assert [fe.default_pool for fe in plan.haproxy.frontends] == ["tls", "app"]
    assert [(s.name, s.port, s.pool, s.dns_name) for s in plan.regions[0].servers] == [
        ("app1", 8080, "app", False),
        ("app2", 8443, "app", True),
        ("tls1", 443, "tls", False),
    ]
    assert not plan.regions[0].demo_backends
