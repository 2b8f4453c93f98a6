"""Rules for named pools and frontend routes: what the model's shapes cannot see.

A route that names no pool, a pool nothing routes to, a route that repeats or can never match
because an earlier one takes all its requests: HAProxy accepts each of them (an unknown backend
aside) and quietly sends traffic somewhere the author did not mean. Reported here, at the
route's or pool's own line, all at once. Without top-level `pools`, a spec has one implicit
pool (`backends`) and none of these keys may be used.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from hacompile.errors import Loc
from hacompile.spec.model import FrontendSpec, RouteSpec, Spec

if TYPE_CHECKING:
    from hacompile.spec.rules import Findings


def check(spec: Spec, found: Findings) -> None:
    if not spec.pools:
        _no_pools(spec, found)
        return
    _pools(spec, found)
    _servers(spec, found)
    used: dict[str, list[tuple[Loc, str]]] = {}
    for fi, fe in enumerate(spec.haproxy.frontends):
        _frontend(spec, fi, fe, found, used)
    for pi, pool in enumerate(spec.pools):
        at: Loc = ("pools", pi)
        modes = {mode for _, mode in used.get(pool.name, [])}
        if not modes:
            found.add(
                (*at, "name"),
                f"pool {pool.name} is not used: no route or default_pool of any frontend names it",
            )
        elif len(modes) > 1:
            where = next(loc for loc, mode in used[pool.name] if mode == "tcp")
            found.add(
                where,
                f"pool {pool.name} serves both http and tcp frontends; HAProxy runs a backend "
                "in one mode: give the tcp frontend a pool of its own",
            )
        elif modes == {"tcp"}:
            for key in ("sticky_cookie", "check"):
                if getattr(pool, key) is not None:
                    found.add(
                        (*at, key),
                        f"pool {pool.name} serves only tcp frontends; `{key}` needs HTTP",
                    )


def _no_pools(spec: Spec, found: Findings) -> None:
    for fi, fe in enumerate(spec.haproxy.frontends):
        for key in ("routes", "default_pool"):
            if getattr(fe, key):
                found.add(
                    ("haproxy", "frontends", fi, key),
                    f"`{key}` names pools, and the spec defines none: list them under "
                    "top-level `pools`",
                )
    for ri, region in enumerate(spec.regions):
        if region.pools:
            found.add(
                ("regions", ri, "pools"),
                "this lists servers of the top-level `pools`, and the spec defines none",
            )


def _pools(spec: Spec, found: Findings) -> None:
    if "backends" in spec.model_fields_set:
        found.add(
            ("backends",),
            "with `pools`, each pool has its own port, check and demo servers: `backends` "
            "is for a spec without pools",
        )
    if spec.haproxy.sticky_cookie:
        found.add(
            ("haproxy", "sticky_cookie"),
            "with `pools`, set sticky_cookie on the pools that need it",
        )
    seen: dict[str, int] = {}
    demo: tuple[int, int, str] | None = None
    for pi, pool in enumerate(spec.pools):
        if pool.name in seen:
            found.add(
                ("pools", pi, "name"),
                f"pool {pool.name} is defined twice (first at pools[{seen[pool.name]}])",
            )
        seen.setdefault(pool.name, pi)
        if pool.demo is None:
            continue
        if demo is None:
            demo = (pi, pool.port, pool.demo.instance_type)
            continue
        first, port, instance_type = demo
        if pool.port != port:
            found.add(
                ("pools", pi, "port"),
                f"demo servers of every pool serve one port (the demo security group opens "
                f"one): pools[{first}] uses {port}",
            )
        if pool.demo.instance_type != instance_type:
            found.add(
                ("pools", pi, "demo", "instance_type"),
                f"demo servers of every pool are one instance type: pools[{first}] uses "
                f"{instance_type}",
            )


def _servers(spec: Spec, found: Findings) -> None:
    pools = {p.name: p for p in spec.pools}
    for ri, region in enumerate(spec.regions):
        at: Loc = ("regions", ri)
        if region.backends:
            found.add(
                (*at, "backends"),
                "with `pools`, list this region's servers by pool: `pools: {NAME: [...]}`",
            )
        names: dict[str, str] = {}
        for name, servers in region.pools.items():
            pool = pools.get(name)
            if pool is None:
                found.add((*at, "pools", name), _unknown(name, spec), at_key=True)
            elif pool.demo is not None:
                found.add(
                    (*at, "pools", name),
                    f"pool {name} has demo servers (`demo`); do not also list existing ones",
                    at_key=True,
                )
            for si, server in enumerate(servers):
                if server.name in names:
                    found.add(
                        (*at, "pools", name, si, "name"),
                        f"server name {server.name} is already used in this region "
                        f"(pool {names[server.name]})",
                    )
                names.setdefault(server.name, name)
        for pool in spec.pools:
            if pool.demo is None and not region.pools.get(pool.name):
                found.add(
                    at,
                    f"pool {pool.name} has no servers in {region.name}: list them under "
                    f"`pools: {{{pool.name}: [...]}}` here, or give the pool `demo`",
                )


def _unknown(name: str, spec: Spec) -> str:
    known = list(dict.fromkeys(p.name for p in spec.pools))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else f" (pools: {', '.join(known)})"
    return f"no pool named {name}{hint}"


def _frontend(
    spec: Spec, fi: int, fe: FrontendSpec, found: Findings, used: dict[str, list[tuple[Loc, str]]]
) -> None:
    at: Loc = ("haproxy", "frontends", fi)
    if fe.redirect_https:  # serves no pool (hacompile.spec.tls_rules)
        return
    known = {p.name for p in spec.pools}
    if fe.routes and fe.mode == "tcp":
        found.add(
            (*at, "routes"),
            "routes match an HTTP request's host and path; a tcp frontend has only default_pool",
        )
    for ri, route in enumerate(fe.routes):
        loc: Loc = (*at, "routes", ri, "pool")
        if route.pool not in known:
            found.add(loc, _unknown(route.pool, spec))
        else:
            used.setdefault(route.pool, []).append((loc, fe.mode))
        _reachable(fe.routes, ri, (*at, "routes", ri), found)
    catch_all = catch_all_index(fe)
    if catch_all is not None:
        if fe.default_pool is not None:
            found.add(
                (*at, "default_pool"),
                f"never used: routes[{catch_all}] matches every request first",
            )
        return
    if fe.default_pool is None and len(spec.pools) > 1:
        found.add(
            at,
            f"frontend {fe.name}: which pool serves the requests no route matches? "
            "set `default_pool`",
        )
    default = fe.default_pool or spec.pools[0].name
    if default not in known:
        found.add((*at, "default_pool"), _unknown(default, spec))
    else:
        used.setdefault(default, []).append(((*at, "default_pool"), fe.mode))


_ANY = RouteSpec(path="/", pool="any")


def catch_all_index(fe: FrontendSpec) -> int | None:
    """The first route that matches every request (no host, path `/`), if any: nothing after
    it, default_pool included, is ever reached."""
    return next((i for i, r in enumerate(fe.routes) if covers(r, _ANY)), None)


def _reachable(routes: list[RouteSpec], index: int, at: Loc, found: Findings) -> None:
    """Report route `index` if an earlier route matches the same requests or more."""
    route = routes[index]
    for earlier, other in enumerate(routes[:index]):
        if (other.host, _path(other)) == (route.host, _path(route)):
            found.add(at, f"duplicate route: routes[{earlier}] matches the same requests first")
            return
        if covers(other, route):
            found.add(
                at,
                f"unreachable: every request this route matches goes to routes[{earlier}] "
                f"(pool {other.pool}) first",
            )
            return


def _path(route: RouteSpec) -> str:
    return route.path or "/"


def covers(first: RouteSpec, then: RouteSpec) -> bool:
    """Whether every request `then` matches is matched by `first` (so `then` never wins)."""
    return host_covers(first.host, then.host) and path_covers(_path(first), _path(then))


def host_covers(first: str | None, then: str | None) -> bool:
    """`None` is any host; `*.example.com` is every name ending in `.example.com`."""
    if first is None:
        return True
    if then is None:
        return False
    if first.startswith("*."):
        return then.endswith(first[1:])
    return first == then


def path_covers(first: str, then: str) -> bool:
    """Path prefixes match whole segments: `/api` is /api and /api/...; `/api/` only /api/...
    (hacompile.plan.routing writes the same as HAProxy ACLs)."""
    f, t = first.rstrip("/"), then.rstrip("/")
    if not (t + "/").startswith(f + "/"):
        return False
    # `then` without a trailing slash also matches its exact path t, which `first` matches only
    # if it too has no trailing slash (or t lies strictly below it).
    return then.endswith("/") or not first.endswith("/") or t.startswith(f + "/")
