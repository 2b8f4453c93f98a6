"""Named pools and routes, planned: one HAProxy backend per pool, and per frontend the ACLs and
`use_backend` rules that send each request to the first route it matches.

How a route becomes ACLs (hacompile.spec.routes checks reachability with the same meaning):
- an exact host compares the Host header without its port, lower-cased (`-m str`);
- `*.example.com` matches every name ending in `.example.com` (`-m end`), not example.com;
- a path prefix matches whole segments: `/api` is /api itself (`-m str`) or anything under
  /api/ (`-m beg`), two ACLs of one name, which HAProxy ORs; `/api/` is only the second.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from hacompile.plan import model as p
from hacompile.plan import tls
from hacompile.record import Record
from hacompile.spec import routes as route_rules
from hacompile.spec.model import FrontendSpec, RouteSpec, Spec

HOST = "req.hdr(host),field(1,:),lower"


def pools(spec: Spec, tls_dir: str) -> tuple[p.Pool, ...]:
    """The named pools, each in the mode of the frontends that use it (never both: rules)."""
    if not spec.pools:
        return ()
    hap = spec.haproxy
    modes: dict[str, str] = {}
    for fe in hap.frontends:
        if fe.redirect_https:
            continue
        for name in [r.pool for r in fe.routes] + [default_pool(spec, fe)]:
            modes.setdefault(name, fe.mode)
    out = []
    for pool in spec.pools:
        check = pool.check
        ca, server_name = tls.pool_tls(pool, tls_dir)
        out.append(
            p.Pool(
                name=pool.name,
                mode=modes.get(pool.name, "http"),
                port=pool.port,
                balance=pool.balance or hap.balance,
                sticky_cookie=pool.sticky_cookie or "",
                check_path=check.path if check else "",
                check_status=check.status if check else 0,
                check_interval=check.interval if check else "2s",
                check_rise=check.rise if check else 2,
                check_fall=check.fall if check else 3,
                slow_start=pool.slow_start or "",
                demo=pool.demo is not None,
                tls_ca=ca,
                tls_server_name=server_name,
            )
        )
    return tuple(out)


def default_pool(spec: Spec, fe: FrontendSpec) -> str:
    """The frontend's default pool: as given; else, behind a catch-all route, that route's
    pool (HAProxy then never reaches it); else the only pool there is (spec/routes.py)."""
    if fe.default_pool:
        return fe.default_pool
    catch_all = route_rules.catch_all_index(fe)
    return fe.routes[catch_all].pool if catch_all is not None else spec.pools[0].name


def frontend(spec: Spec, fe: FrontendSpec, tls_dir: str) -> p.Frontend:
    """A frontend; `tls_dir` is where its certificates are installed (plan.tls)."""
    crts, hsts = tls.frontend_tls(fe, tls_dir)
    redirect = fe.redirect_https
    if not spec.pools or fe.redirect_https:
        return p.Frontend(fe.name, fe.port, fe.mode, crts=crts, hsts=hsts, redirect_https=redirect)
    acls: list[p.Acl] = []
    routes = []
    for n, route in enumerate(fe.routes, start=1):
        mine = _acls(route, f"route{n}")
        acls += mine
        names = list(dict.fromkeys(a.name for a in mine))
        routes.append(p.Route(route.pool, " ".join(names), route.host or "", route.path or ""))
    return p.Frontend(
        fe.name,
        fe.port,
        fe.mode,
        tuple(acls),
        tuple(routes),
        default_pool(spec, fe),
        crts=crts,
        hsts=hsts,
        redirect_https=redirect,
    )


def _acls(route: RouteSpec, prefix: str) -> list[p.Acl]:
    out = []
    if route.host is not None:
        if route.host.startswith("*."):
            out.append(p.Acl(f"{prefix}_host", f"{HOST} -m end {route.host[1:]}"))
        else:
            out.append(p.Acl(f"{prefix}_host", f"{HOST} -m str {route.host}"))
    if route.path is not None:
        stem = route.path.rstrip("/")
        if not route.path.endswith("/"):
            out.append(p.Acl(f"{prefix}_path", f"path -m str {stem}"))
        out.append(p.Acl(f"{prefix}_path", f"path -m beg {stem}/"))
    return out


class Sample(Record):
    """A request a route should win, and the pool that must answer it (the lab asks these)."""

    host: str
    path: str
    pool: str


UNROUTED_HOST = "unrouted.invalid"


def serves(route: p.Route, host: str, path: str) -> bool:
    """Whether `route` matches a request: the meaning of the ACLs `frontend` writes."""
    if route.host.startswith("*."):
        if not host.endswith(route.host[1:]):
            return False
    elif route.host and host != route.host:
        return False
    if route.path:
        stem = route.path.rstrip("/")
        exact = not route.path.endswith("/") and path == stem
        if not (exact or path.startswith(stem + "/")):
            return False
    return True


def samples(fe: p.Frontend) -> tuple[Sample, ...]:
    """One request per route (its host, a wildcard's `probe.` name, its path or a name under
    it) and one no route names, each with the pool the first matching route (else the default
    pool) sends it to: a route that an earlier one takes over shows as that one's pool."""
    wanted = [
        (
            route.host.replace("*", "probe", 1) if route.host else UNROUTED_HOST,
            (route.path + "probe" if route.path.endswith("/") else route.path) or "/",
        )
        for route in fe.routes
    ]
    wanted.append((UNROUTED_HOST, "/unrouted"))
    return tuple(
        Sample(
            host, path, next((r.pool for r in fe.routes if serves(r, host, path)), fe.default_pool)
        )
        for host, path in wanted
    )


def described(plan: p.Plan) -> dict[str, object]:
    """The pools and each frontend's routes as data: `hacompile explain`'s (only with pools)."""
    return {
        "pools": [pool._asdict() for pool in plan.haproxy.pools],
        "frontends": [
            {
                "name": fe.name,
                "port": fe.port,
                "mode": fe.mode,
                "routes": [
                    {"host": r.host or None, "path": r.path or None, "pool": r.pool}
                    for r in fe.routes
                ],
                "default_pool": fe.default_pool or None,
                "certificates": [PurePosixPath(c).stem for c in fe.crts],
                "hsts": fe.hsts or None,
                "redirect_https": fe.redirect_https,
            }
            for fe in plan.haproxy.frontends
        ],
        "certificates": [
            {
                "name": f.name,
                "kind": f.kind,
                "store": f.store,
                "secret_id": f.secret_id,
                "names": list(f.names),
                "path": f.path,
            }
            for f in plan.tls.files
        ],
    }


def lines(plan: p.Plan) -> tuple[str, ...]:
    """The routes in words, a line each, in the order HAProxy tries them."""
    out = ["", "Routes (first match wins):" if plan.haproxy.pools else "Frontends:"]
    for fe in plan.haproxy.frontends:
        tls = f", TLS: {', '.join(PurePosixPath(c).stem for c in fe.crts)}" if fe.crts else ""
        hsts = f", HSTS {fe.hsts}" if fe.hsts else ""
        out.append(f"  frontend {fe.name} (:{fe.port}, {fe.mode}{tls}{hsts})")
        if fe.redirect_https:
            out.append("    every request -> 301 to https://, same host, path and query")
            continue
        for n, r in enumerate(fe.routes, start=1):
            host = f"host {r.host}" if r.host else "any host"
            path = f"path {r.path}" if r.path else "any path"
            out.append(f"    {n}. {host}, {path} -> {r.pool}")
        if fe.default_pool:
            out.append(f"    otherwise -> {fe.default_pool}")
    if plan.tls.files:
        out += [
            "",
            f"Certificates (every load balancer checks for new versions every {plan.tls.refresh}):",
        ]
        for f in plan.tls.files:
            what = f"covers {', '.join(f.names)}" if f.names else "CA bundle"
            out.append(f"  {f.name}: {f.store} {f.secret_id}, {what} -> {f.path}")
    return tuple(out)
