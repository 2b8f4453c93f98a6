"""The generated Ansible inventory: everything hacompile decided, as plain data.

Ansible merges it with the per-region JSON that `terraform output` produces (instance IDs, ENI
IDs, EIP allocation IDs, public addresses), so the roles get compile-time facts from here and
AWS's facts from Terraform, never from whatever happens to be associated when the play runs.
"""

from __future__ import annotations

from typing import Any

from hacompile.plan import tls
from hacompile.plan.model import Frontend, LoadBalancer, Plan, Region, Server, Vip, VrrpInstance


def inventory(plan: Plan) -> dict[str, Any]:
    lb_children: dict[str, Any] = {}
    backend_children: dict[str, Any] = {}
    regions: dict[str, Any] = {}
    for region in plan.regions:
        lb_group = f"{region.slug}_lb"
        lb_children[lb_group] = None
        group_vars: dict[str, Any] = {
            "hacompile_region": region.name,
            "haproxy_backend": _backend(plan, region),
        }
        if plan.management == "ssm":
            # SSH through Session Manager to the instance ID (ansible_host, from Terraform):
            # the controller needs the AWS CLI and its session-manager-plugin.
            group_vars["ansible_ssh_common_args"] = (
                '-o ProxyCommand="aws ssm start-session --target %h --document-name '
                f'AWS-StartSSHSession --region {region.name}"'
            )
        if plan.haproxy.pools:
            group_vars["haproxy_pools"] = _pools(plan, region)
        regions[region.slug] = {
            "vars": group_vars,
            "children": {
                lb_group: {
                    "hosts": {lb.host: _lb_vars(lb, region.vips) for lb in region.load_balancers}
                }
            },
        }
        if region.demo_backends:
            web_group = f"{region.slug}_backend"
            backend_children[web_group] = None
            regions[region.slug]["children"][web_group] = {
                "hosts": {s.host: _demo_vars(s) for s in region.servers if s.host}
            }
    children: dict[str, Any] = {"lb": {"children": lb_children}}
    if backend_children:
        children["backend"] = {"children": backend_children}
    children.update(regions)
    return {
        "all": {
            "vars": {
                "ansible_user": plan.ssh_user,
                "hacompile_cluster": plan.name,
            },
            "children": children,
        }
    }


def lb_group_vars(plan: Plan) -> dict[str, Any]:
    """Variables shared by every load balancer: the flavor's paths, HAProxy and check settings."""
    f = plan.flavor
    hap = plan.haproxy
    ka = plan.keepalived
    return (
        {
            "haproxy_package": f.haproxy_package,
            "haproxy_service": f.haproxy_service,
            "haproxy_config_path": f.haproxy_config,
            "haproxy_binary": f.haproxy_binary,
            "haproxy_user": f.haproxy_user,
            "haproxy_group": f.haproxy_group,
            "haproxy_socket": f.haproxy_socket,
            "haproxy_maxconn": hap.maxconn,
            "haproxy_timeouts": {
                "connect": hap.timeout_connect,
                "client": hap.timeout_client,
                "server": hap.timeout_server,
            },
            "haproxy_frontends": [
                _frontend(fe, routed=bool(hap.pools), tls=bool(plan.tls.files))
                for fe in hap.frontends
            ],
            "haproxy_stats_port": hap.stats_port,
            "haproxy_stats_cidrs": list(hap.stats_cidrs),
            "keepalived_package": f.keepalived_package,
            "keepalived_service": f.keepalived_service,
            "keepalived_config_path": f.keepalived_config,
            "keepalived_binary": f.keepalived_binary,
            "keepalived_script_user": ka.script_user,
            "keepalived_vrrp_version": ka.vrrp_version,
            "keepalived_advert_int": ka.advert_int,
            "keepalived_preempt_delay": ka.preempt_delay,
            "keepalived_auth": ka.auth,
            "keepalived_reconcile_interval": ka.reconcile_interval,
            "keepalived_checks": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "process": c.process,
                    "interval": c.interval,
                    "weight": c.weight,
                    "fall": c.fall,
                    "rise": c.rise,
                    "timeout": c.timeout,
                    "watch_ms": c.watch_ms,
                    "pattern": c.pattern,
                    "track": c.track,
                    "down_after": c.down_after,
                }
                for c in ka.checks
            ],
        }
        | _observability_vars(plan)
        | _tls_vars(plan)
    )


def _observability_vars(plan: Plan) -> dict[str, Any]:
    """Only what the spec turns on: without `metrics` and `logs` lb.yml is what it was (the
    roles' defaults say "off")."""
    obs = plan.observability
    out: dict[str, Any] = {}
    if obs.metrics_port:
        out["haproxy_metrics_port"] = obs.metrics_port
        out["haproxy_metrics_cidrs"] = list(obs.metrics_cidrs)
        out["haproxy_metrics_lua_path"] = obs.metrics_lua_path
        out["keepalived_vrrp_metrics"] = True
    if obs.request_id_header:
        out["haproxy_request_id_header"] = obs.request_id_header
    return out


def _tls_vars(plan: Plan) -> dict[str, Any]:
    """The certificate files to fetch and the TLS profile; nothing without spec `tls`."""
    t = plan.tls
    if not t.files:
        return {}
    return {
        "haproxy_tls_dir": t.directory,
        "haproxy_tls_files": [
            {
                "name": f.name,
                "kind": f.kind,
                "store": f.store,
                "secret_id": f.secret_id,
                "names": list(f.names),
            }
            for f in t.files
        ],
        "haproxy_tls_refresh": t.refresh,
        "haproxy_hard_stop_after": t.hard_stop_after,
        "haproxy_tls_profile": {
            "ciphers": list(tls.CIPHERS),
            "ciphersuites": tls.CIPHERSUITES,
            "options": tls.OPTIONS,
            "server_options": tls.SERVER_OPTIONS,
            "alpn": tls.ALPN,
            "dh_param_bits": tls.DH_PARAM_BITS,
        },
    }


def _lb_vars(lb: LoadBalancer, vips: tuple[Vip, ...]) -> dict[str, Any]:
    return {
        "keepalived_router_id": lb.host,
        "keepalived_unicast_src_ip": lb.private_ip,
        "keepalived_unicast_peers": list(lb.peers),
        "keepalived_instances": [_instance(i, vips) for i in lb.instances],
    }


def _instance(i: VrrpInstance, vips: tuple[Vip, ...]) -> dict[str, Any]:
    """One VRRP instance of a load balancer. An EIP's item has exactly the keys it always had
    (so bundles without VIPs are unchanged); a VIP's adds how the claim moves it: the strategy
    and address, and for a route VIP the existing route tables the spec names and whether the
    bundle's own table (Terraform's `hacompile_route_table_id`) is one of them."""
    out: dict[str, Any] = {
        "name": i.name,
        "vrid": i.vrid,
        "priority": i.priority,
        "master": i.master,
        "slot_ip": i.slot_ip,
    }
    if i.strategy == "eip":
        return out
    out |= {"strategy": i.strategy, "address": i.address}
    if i.strategy == "route":
        vip = next(v for v in vips if v.name == i.name)
        out |= {"route_tables": list(vip.route_tables), "own_route_table": vip.own_route_table}
    return out


def _backend(plan: Plan, region: Region) -> dict[str, Any]:
    return {
        "balance": plan.haproxy.balance,
        "sticky_cookie": plan.haproxy.sticky_cookie,
        "health_check_path": plan.haproxy.health_check_path,
        # A `resolvers` section is written only when some server is named by DNS.
        "resolvers": any(s.dns_name for s in region.servers),
        "servers": [
            {"name": s.name, "address": s.address, "port": s.port, "dns_name": s.dns_name}
            for s in region.servers
        ],
    }


def _frontend(fe: Frontend, *, routed: bool, tls: bool) -> dict[str, Any]:
    """A frontend; with named pools also its ACLs, routes and default pool, with `tls` its
    certificates, HSTS and redirect (the keys are absent without those features, so such a
    spec's group vars are what they were before they existed)."""
    out: dict[str, Any] = {"name": fe.name, "port": fe.port, "mode": fe.mode}
    if tls:
        out |= {"crts": list(fe.crts), "hsts": fe.hsts, "redirect_https": fe.redirect_https}
    if routed:
        out["acls"] = [{"name": a.name, "criterion": a.criterion} for a in fe.acls]
        out["routes"] = [{"pool": r.pool, "condition": r.condition} for r in fe.routes]
        out["default_pool"] = fe.default_pool
    return out


def _pools(plan: Plan, region: Region) -> list[dict[str, Any]]:
    """One HAProxy backend per named pool, with this region's servers of it."""
    return [
        {
            "name": pool.name,
            "mode": pool.mode,
            "balance": pool.balance,
            "sticky_cookie": pool.sticky_cookie,
            "check_path": pool.check_path,
            "check_status": pool.check_status,
            "check_interval": pool.check_interval,
            "check_rise": pool.check_rise,
            "check_fall": pool.check_fall,
            "slow_start": pool.slow_start,
            **(
                {"tls_ca": pool.tls_ca, "tls_server_name": pool.tls_server_name}
                if plan.tls.files
                else {}
            ),
            "servers": [
                {"name": s.name, "address": s.address, "port": s.port, "dns_name": s.dns_name}
                for s in region.servers
                if s.pool == pool.name
            ],
        }
        for pool in plan.haproxy.pools
    ]


def _demo_vars(server: Server) -> dict[str, Any]:
    """A demo server's port; in a named pool also the pool, which its page names and which
    makes it answer every path (the pool's health check and route paths)."""
    out: dict[str, Any] = {"demo_backend_port": server.port}
    if server.pool:
        out["demo_backend_pool"] = server.pool
    return out
