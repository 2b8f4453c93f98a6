"""Injection-proof rendering: a hostile string in any free-text field of the spec is either
refused with a located error or comes out of every target as inert data.

The matrix below puts each string of HOSTILE into each field of FIELDS (which must cover every
string-typed field of the model, see test_fields_cover_the_model) and compiles in-process:

- refused: the SpecError carries an error whose path is that field and whose FILE:LINE:COL is
  where the loader saw the value, and every rendered diagnostic is a single line;
- accepted: the bundle's HCL, YAML and JSON parse, and each file has exactly the structure of the
  benign baseline (same live `${}`/`%{}` count, Jinja only under `!unsafe`; see inert.py).

Accepted-but-tricky values (what each pattern does admit) are then built by the CLI and checked
end to end by test_tricky_values_stay_data, with Ansible rendering the real role templates and
keepalived/haproxy checking the result.
"""

from __future__ import annotations

import copy
import io
import re
import shutil
import subprocess
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from ruamel.yaml import YAML

from hacompile.errors import Severity, SpecError, format_loc
from hacompile.load import load
from hacompile.pipeline import compile_spec
from hacompile.spec.model import Spec
from tests.hostile import inert
from tests.hostile.clirun import run_cli

HOSTILE: dict[str, str] = {
    "hcl_interpolation": '${file("/etc/passwd")}',
    "hcl_directive": "%{ for x in y }x%{ endfor }",
    "hcl_escaped": "$${x}",
    "shell_substitution": "$(id)",
    "backticks": "`id`",
    "single_quote_break": "'; rm -rf /; '",
    "double_quote_break": '"; rm -rf /; "',
    "jinja_expression": "{{ lookup('pipe','id') }}",
    "jinja_statement": "{% for x in range(9) %}x{% endfor %}",
    "jinja_comment": "{# x #}",
    "keepalived_block": "\n}\nvrrp_script evil {",
    "haproxy_directive": "x\n    server evil 203.0.113.66:80",
    "newline": "a\nb",
    "carriage_return": "a\rb",
    "nul": "a\x00b",
    "escape_sequence": "\x1b[31mred",
    "line_separator": "a\u2028b",
    "bidi_override": "abc\u202edcb",
    "zero_width_space": "ha\u200bproxy",
    "confusable_cyrillic": "h\u0430proxy",
    "fullwidth": "\uff48\uff41\uff50\uff52\uff4f\uff58\uff59",
    "comment_hash": "x # y",
    "semicolon": "x;y",
    "braces": "x{y}",
    "yaml_document": "---\nx: 1",
    "yaml_alias": "*alias",
    "path_traversal": "../../etc/passwd",
    "padded": " x ",
    "empty": "",
    "very_long": "a" * 100_000,
}


def _base_demo() -> dict[str, Any]:
    return {
        "version": 1,
        "name": "inj",
        "regions": [
            {
                "name": "us-east-1",
                "vpc_cidr": "10.0.0.0/16",
                "zones": [{"name": "us-east-1a", "subnet_cidr": "10.0.1.0/24"}, "us-east-1b"],
                "ami_id": "ami-0123456789abcdef0",
            }
        ],
        "load_balancers": {
            "count": 2,
            "instance_type": "t3.small",
            "flavor": "hapee",
            "hapee_version": "3.0",
            "ami_product_code": "483gxnuft87jy44d3q8n4kvt1",
        },
        "backends": {
            "port": 80,
            "demo": {"count": 3, "instance_type": "t3.micro"},
            "health_check_path": "/health",
        },
        "haproxy": {
            "balance": "roundrobin",
            "sticky_cookie": "SERVERID",
            "frontends": [{"name": "web", "port": 80, "mode": "http"}],
            "timeouts": {"connect": "5s", "client": "30s", "server": "30s"},
            "stats": {"port": 8404, "cidrs": ["10.0.0.0/8"]},
        },
        "keepalived": {
            "process_checks": "script",
            "checks": [
                {"name": "chk_lb", "process": "hapee-lb", "weight": 6},
                {"name": "chk_gw", "gateway": True},
            ],
        },
        "access": {
            "management": "ssh",
            "ssh_key_name": "mykey",
            "ssh_cidrs": ["203.0.113.0/24"],
            "ssh_user": "ubuntu",
        },
        "tags": {"project": "inj"},
        "state": {
            "s3": {"bucket": "inj-tf-state", "region": "us-east-1", "key_prefix": "teams/inj"}
        },
        "dns": {
            "zone": "example.com",
            "name": "www.example.com",
            "health_check": {"frontend": "web", "path": "/health"},
        },
        "metrics": {"port": 8405, "cidrs": ["10.0.0.0/8"]},
        "logs": {"request_id_header": "X-Request-ID"},
        "security": {
            "flow_logs": {"destination": "s3", "s3_bucket_arn": "arn:aws:s3:::inj-flow-logs"},
            "egress": {"allow": [{"cidr": "10.9.0.0/16", "port": 5432, "protocol": "tcp"}]},
        },
    }


def _base_existing() -> dict[str, Any]:
    spec = _base_demo()
    del spec["backends"]["demo"]
    spec["regions"][0]["backends"] = [
        {"name": "app1", "address": "app1.internal", "port": 8080},
        {"name": "app2", "address": "10.0.1.50"},
    ]
    return spec


def _base_byo() -> dict[str, Any]:
    spec = _base_demo()
    region = spec["regions"][0]
    region["vpc_id"] = "vpc-0123456789abcdef0"
    region["security_groups"] = ["sg-0123456789abcdef0"]
    region["taken"] = ["10.0.1.10"]
    region["zones"] = [
        {
            "name": f"us-east-1{z}",
            "subnet_cidr": f"10.0.{i + 1}.0/24",
            "subnet_id": f"subnet-0123456789abcdef{i}",
        }
        for i, z in enumerate("ab")
    ]
    return spec


def _base_dns_id() -> dict[str, Any]:
    spec = _base_demo()
    del spec["dns"]["zone"]
    spec["dns"]["zone_id"] = "Z0123456789ABCDEFGHIJ"
    return spec


def _base_dns_failover() -> dict[str, Any]:
    """Two regions answered by failover routing, the first one primary."""
    spec = _base_demo()
    spec["regions"].append(
        {
            "name": "us-west-2",
            "vpc_cidr": "10.1.0.0/16",
            "zones": ["us-west-2a", "us-west-2b"],
            "ami_id": "ami-0123456789abcdef1",
        }
    )
    spec["dns"] |= {"routing": "failover", "primary": "us-east-1"}
    return spec


def _base_pools() -> dict[str, Any]:
    """Named pools: a demo pool with every pool key, one of servers listed in the region, and
    a frontend routing by host and path to them."""
    spec = _base_demo()
    del spec["backends"]
    del spec["haproxy"]["sticky_cookie"]
    spec["regions"][0]["pools"] = {
        "api": [{"name": "api1", "address": "api1.internal", "port": 8080}]
    }
    spec["pools"] = [
        {
            "name": "web",
            "balance": "leastconn",
            "sticky_cookie": "WEBSRV",
            "slow_start": "30s",
            "check": {"path": "/healthz", "interval": "2s"},
            "demo": {"count": 2, "instance_type": "t3.micro"},
        },
        {"name": "api"},
    ]
    spec["haproxy"]["frontends"][0]["routes"] = [
        {"host": "api.example.com", "path": "/v1", "pool": "api"}
    ]
    spec["haproxy"]["frontends"][0]["default_pool"] = "web"
    return spec


def _base_tls() -> dict[str, Any]:
    """TLS: two certificates (one per store) on an HTTPS frontend, an HTTP frontend that
    redirects to it, and both pools verifying their servers against a CA bundle each."""
    spec = _base_pools()
    spec["tls"] = {
        "certificates": [
            {"name": "www", "secretsmanager": "inj/www", "names": ["api.example.com"]},
            {"name": "alt", "ssm": "/inj/alt", "names": ["*.example.org"]},
        ],
        "cas": [
            {"name": "internal", "ssm": "/inj/ca"},
            {"name": "partner", "secretsmanager": "inj/partner-ca"},
        ],
        "refresh": "5m",
        "hard_stop_after": "30m",
    }
    https = spec["haproxy"]["frontends"][0]
    https["port"] = 443
    https["tls"] = {"certificates": ["www", "alt"], "hsts": {"max_age": 31536000}}
    spec["haproxy"]["frontends"].append({"name": "plain", "port": 80, "redirect_https": True})
    spec["pools"][0]["tls"] = {"ca": "internal", "server_name": "web.internal"}
    spec["pools"][1]["tls"] = {"ca": "partner"}
    return spec


def _base_vips() -> dict[str, Any]:
    """Private VIPs in an existing VPC: a route VIP over a named route table and a secondary-IP
    VIP held by the two load balancers of one zone (three LBs over two zones: lb1 and lb3)."""
    spec = _base_byo()
    spec["load_balancers"] |= {"count": 3, "instance_type": "t3.medium"}
    spec["keepalived"]["checks"][0]["weight"] = 13  # outweighs the wider 3-LB priority gap
    spec["regions"][0]["vips"] = [
        {
            "name": "api",
            "strategy": "route",
            "address": "100.64.0.10",
            "route_tables": ["rtb-0123456789abcdef0"],
        },
        {
            "name": "db",
            "strategy": "secondary_ip",
            "address": "10.0.1.50",
            "load_balancers": ["lb1", "lb3"],
        },
    ]
    return spec


TAG_KEY = ("tags", "<key>")
# The key of regions[0].pools' `api` entry (a pool name, as a mapping key).
POOL_KEY = ("regions", 0, "pools", "<key>")
# field id -> (base spec, path of the value in it); TAG_KEY replaces the key of `project`.
FIELDS: dict[str, tuple[str, tuple[str | int, ...]]] = {
    "name": ("demo", ("name",)),
    "region.name": ("demo", ("regions", 0, "name")),
    "region.vpc_cidr": ("demo", ("regions", 0, "vpc_cidr")),
    "zone.name": ("demo", ("regions", 0, "zones", 0, "name")),
    "zone.shorthand": ("demo", ("regions", 0, "zones", 1)),
    "zone.subnet_cidr": ("demo", ("regions", 0, "zones", 0, "subnet_cidr")),
    "backend.name": ("existing", ("regions", 0, "backends", 0, "name")),
    "backend.address": ("existing", ("regions", 0, "backends", 0, "address")),
    "lb.instance_type": ("demo", ("load_balancers", "instance_type")),
    "lb.flavor": ("demo", ("load_balancers", "flavor")),
    "lb.hapee_version": ("demo", ("load_balancers", "hapee_version")),
    "lb.ami_product_code": ("demo", ("load_balancers", "ami_product_code")),
    "region.ami_id": ("demo", ("regions", 0, "ami_id")),
    "flow_logs.destination": ("demo", ("security", "flow_logs", "destination")),
    "flow_logs.s3_bucket_arn": ("demo", ("security", "flow_logs", "s3_bucket_arn")),
    "egress.cidr": ("demo", ("security", "egress", "allow", 0, "cidr")),
    "state.s3.bucket": ("demo", ("state", "s3", "bucket")),
    "state.s3.region": ("demo", ("state", "s3", "region")),
    "state.s3.key_prefix": ("demo", ("state", "s3", "key_prefix")),
    "region.vpc_id": ("byo", ("regions", 0, "vpc_id")),
    "region.security_groups": ("byo", ("regions", 0, "security_groups", 0)),
    "region.taken": ("byo", ("regions", 0, "taken", 0)),
    "zone.subnet_id": ("byo", ("regions", 0, "zones", 0, "subnet_id")),
    "dns.zone": ("demo", ("dns", "zone")),
    "dns.zone_id": ("dns_id", ("dns", "zone_id")),
    "dns.name": ("demo", ("dns", "name")),
    "dns.health_check.frontend": ("demo", ("dns", "health_check", "frontend")),
    "dns.health_check.path": ("demo", ("dns", "health_check", "path")),
    "dns.routing": ("dns_failover", ("dns", "routing")),
    "dns.primary": ("dns_failover", ("dns", "primary")),
    "egress.protocol": ("demo", ("security", "egress", "allow", 0, "protocol")),
    "demo.instance_type": ("demo", ("backends", "demo", "instance_type")),
    "backends.health_check_path": ("demo", ("backends", "health_check_path")),
    "haproxy.balance": ("demo", ("haproxy", "balance")),
    "haproxy.sticky_cookie": ("demo", ("haproxy", "sticky_cookie")),
    "frontend.name": ("demo", ("haproxy", "frontends", 0, "name")),
    "frontend.mode": ("demo", ("haproxy", "frontends", 0, "mode")),
    "timeouts.connect": ("demo", ("haproxy", "timeouts", "connect")),
    "timeouts.client": ("demo", ("haproxy", "timeouts", "client")),
    "timeouts.server": ("demo", ("haproxy", "timeouts", "server")),
    "stats.cidr": ("demo", ("haproxy", "stats", "cidrs", 0)),
    "metrics.cidr": ("demo", ("metrics", "cidrs", 0)),
    "logs.request_id_header": ("demo", ("logs", "request_id_header")),
    "keepalived.process_checks": ("demo", ("keepalived", "process_checks")),
    "check.name": ("demo", ("keepalived", "checks", 0, "name")),
    "check.process": ("demo", ("keepalived", "checks", 0, "process")),
    "access.ssh_key_name": ("demo", ("access", "ssh_key_name")),
    "access.ssh_cidr": ("demo", ("access", "ssh_cidrs", 0)),
    "access.ssh_user": ("demo", ("access", "ssh_user")),
    "access.management": ("demo", ("access", "management")),
    "tags.key": ("demo", TAG_KEY),
    "tags.value": ("demo", ("tags", "project")),
    "pool.name": ("pools", ("pools", 1, "name")),
    "pool.balance": ("pools", ("pools", 0, "balance")),
    "pool.sticky_cookie": ("pools", ("pools", 0, "sticky_cookie")),
    "pool.slow_start": ("pools", ("pools", 0, "slow_start")),
    "pool.check.path": ("pools", ("pools", 0, "check", "path")),
    "pool.check.interval": ("pools", ("pools", 0, "check", "interval")),
    "pool.demo.instance_type": ("pools", ("pools", 0, "demo", "instance_type")),
    "route.host": ("pools", ("haproxy", "frontends", 0, "routes", 0, "host")),
    "route.path": ("pools", ("haproxy", "frontends", 0, "routes", 0, "path")),
    "route.pool": ("pools", ("haproxy", "frontends", 0, "routes", 0, "pool")),
    "frontend.default_pool": ("pools", ("haproxy", "frontends", 0, "default_pool")),
    "region.pools.key": ("pools", POOL_KEY),
    "region.pools.server.name": ("pools", ("regions", 0, "pools", "api", 0, "name")),
    "region.pools.server.address": ("pools", ("regions", 0, "pools", "api", 0, "address")),
    "tls.refresh": ("tls", ("tls", "refresh")),
    "tls.hard_stop_after": ("tls", ("tls", "hard_stop_after")),
    "tls.certificate.name": ("tls", ("tls", "certificates", 0, "name")),
    "tls.certificate.secretsmanager": ("tls", ("tls", "certificates", 0, "secretsmanager")),
    "tls.certificate.ssm": ("tls", ("tls", "certificates", 1, "ssm")),
    "tls.certificate.names": ("tls", ("tls", "certificates", 0, "names", 0)),
    "tls.ca.name": ("tls", ("tls", "cas", 0, "name")),
    "tls.ca.ssm": ("tls", ("tls", "cas", 0, "ssm")),
    "tls.ca.secretsmanager": ("tls", ("tls", "cas", 1, "secretsmanager")),
    "frontend.tls.certificate": ("tls", ("haproxy", "frontends", 0, "tls", "certificates", 0)),
    "pool.tls.ca": ("tls", ("pools", 0, "tls", "ca")),
    "pool.tls.server_name": ("tls", ("pools", 0, "tls", "server_name")),
    "vip.name": ("vips", ("regions", 0, "vips", 0, "name")),
    "vip.strategy": ("vips", ("regions", 0, "vips", 1, "strategy")),
    "vip.address": ("vips", ("regions", 0, "vips", 0, "address")),
    "vip.secondary_ip.address": ("vips", ("regions", 0, "vips", 1, "address")),
    "vip.route_tables": ("vips", ("regions", 0, "vips", 0, "route_tables", 0)),
    "vip.load_balancers": ("vips", ("regions", 0, "vips", 1, "load_balancers", 1)),
}
BASES = {
    "demo": _base_demo,
    "existing": _base_existing,
    "dns_id": _base_dns_id,
    "byo": _base_byo,
    "pools": _base_pools,
    "dns_failover": _base_dns_failover,
    "tls": _base_tls,
    "vips": _base_vips,
}


# --- the table covers the model -------------------------------------------------------------


def _string_fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Normalised paths (``regions[].zones[].name``, ``tags{key}``) of every str-typed field."""
    for name, info in model.model_fields.items():
        yield from _typed(info.annotation, f"{prefix}{name}")


def _typed(tp: Any, path: str) -> Iterator[str]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is str:
        yield path
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        yield from _string_fields(tp, path + ".")
    elif origin is typing.Annotated:
        yield from _typed(args[0], path)
    elif origin is typing.Literal:
        if any(isinstance(a, str) for a in args):
            yield path
    elif origin is list:
        yield from _typed(args[0], path + "[]")
    elif origin is dict:
        yield from (p.replace(path + "<>", path + "{key}") for p in _typed(args[0], path + "<>"))
        yield from (p.replace(path + "<>", path + "{value}") for p in _typed(args[1], path + "<>"))
    elif args:  # unions (X | None, float | int)
        for arg in args:
            yield from _typed(arg, path)


def _normalise(path: tuple[str | int, ...]) -> str:
    if path == TAG_KEY:
        return "tags{key}"
    if path == POOL_KEY:
        return "regions[].pools{key}"
    if path[0] == "tags":
        return "tags{value}"
    if path[:3] == ("regions", 0, "pools"):
        return "regions[].pools{value}" + _normalise(("x", *path[4:]))[1:]
    out = ""
    for part in path:
        out += "[]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def test_fields_cover_the_model() -> None:
    """A new string field in the model must be added to FIELDS (and so to the matrix)."""
    model = set(_string_fields(Spec))
    table = {_normalise(path) for _, path in FIELDS.values()}
    assert model - table == set(), "add these fields to FIELDS"
    assert "regions[].backends[].address" in model  # the walker does see nested lists


# --- the matrix -----------------------------------------------------------------------------


def _set(spec: dict[str, Any], path: tuple[str | int, ...], value: str) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    if path == TAG_KEY:
        spec["tags"] = {value: spec["tags"]["project"]}
        return spec
    if path == POOL_KEY:
        spec["regions"][0]["pools"] = {value: spec["regions"][0]["pools"]["api"]}
        return spec
    node: Any = spec
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return spec


def _dump(spec: dict[str, Any], path: Path) -> Path:
    yaml = YAML(typ="safe", pure=True)
    yaml.width = 1 << 20
    yaml.allow_unicode = True
    buffer = io.StringIO()
    yaml.dump(spec, buffer)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _files(spec_path: Path) -> dict[str, bytes]:
    return {str(f.path): f.content for f in compile_spec(spec_path).bundle.files}


def _variants(field: str) -> dict[str, str]:
    """HOSTILE plus the benign value with a tail: what a sloppy pattern (`^...$`) lets in."""
    base_name, path = FIELDS[field]
    good = {TAG_KEY: "project", POOL_KEY: "api"}.get(path) or _get(BASES[base_name](), path)
    tails = {
        "trailing_newline": good + "\n",
        "trailing_directive": good + "\n}\nglobal_defs {",
        "trailing_space": good + " ",
        "leading_space": " " + good,
        "trailing_nul": good + "\x00",
        "trailing_jinja": good + "{{ 7*7 }}",
    }
    return {**HOSTILE, **tails}


def _get(spec: dict[str, Any], path: tuple[str | int, ...]) -> str:
    node: Any = spec
    for part in path:
        node = node[part]
    assert isinstance(node, str)
    return node


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_hostile_strings_are_refused_or_inert(field: str, tmp_path: Path) -> None:
    base_name, path = FIELDS[field]
    base = BASES[base_name]()
    baseline = _files(_dump(base, tmp_path / "baseline.yaml"))
    accepted = []
    for label, value in _variants(field).items():
        spec_path = _dump(_set(base, path, value), tmp_path / f"{label}.yaml")
        try:
            files = _files(spec_path)
        except SpecError as exc:
            _assert_located(exc, spec_path, path, value, label)
            continue
        accepted.append(label)
        inert.assert_same_structure(baseline, files)
        _assert_value_is_data(files, value)
    # Documented expectation: only enum-like empty strings etc. are ever accepted, and those
    # are benign; what is accepted is listed so a loosened pattern shows up in review.
    assert set(accepted) <= ACCEPTED.get(field, set()), (field, accepted)


# Hostile strings a field accepts on purpose (and which the matrix then proved inert): AWS tags
# allow spaces, '.' and '/', and an empty value. Every other field refuses every string.
_TAG_TEXT = {"path_traversal", "padded", "trailing_space", "leading_space"}
ACCEPTED: dict[str, set[str]] = {"tags.key": _TAG_TEXT, "tags.value": {*_TAG_TEXT, "empty"}}


def _assert_located(
    exc: SpecError, spec_path: Path, path: tuple[str | int, ...], value: str, label: str
) -> None:
    errors = [d for d in exc.diagnostics if d.severity is Severity.ERROR]
    assert errors, label
    for diag in exc.diagnostics:
        assert "\n" not in diag.render() and diag.render().isprintable(), (label, diag)
    try:
        positions = load(spec_path).positions
    except SpecError:  # the loader itself refused the file: it located its own error
        assert all(d.line >= 1 and d.column >= 1 for d in errors), label
        return
    if path in (TAG_KEY, POOL_KEY):
        at = (*path[:-1], value)
        want_path = format_loc(at)
        where = positions.keys.get(at, (0, 0))
        path = at
    else:
        want_path = format_loc(path)
        where = positions.locate(path, at_key=False)
    ours = [d for d in errors if _same_path(d.path, want_path)]
    assert ours, (label, want_path, [d.render() for d in errors])
    assert any((d.line, d.column) in (where, positions.locate(path)) for d in ours), (
        label,
        where,
        [d.render() for d in ours],
    )


def _same_path(got: str, want: str) -> bool:
    """Diagnostics escape non-printable characters; compare after the same escaping."""
    escaped = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in want
    )
    return got == escaped or got.startswith(escaped + ".") or got.startswith(escaped + "[")


def _assert_value_is_data(files: dict[str, bytes], value: str) -> None:
    if not value:  # "" is in every file; where it is a value, the literal check holds trivially
        return
    for name, content in files.items():
        if name.endswith(".tf"):
            values, _ = inert.hcl_literals(content.decode())
            if value in content.decode():
                assert value in values or any(value in v for v in values), name


# --- accepted-but-tricky values, end to end -------------------------------------------------

TRICKY_TAGS = {
    "a = b": "x = y // not a comment / nor this",
    "k:/=+@-._ ": "@include /etc/passwd",
    "owner": "- item: not yaml",
    "empty": "",
}


def _benign() -> dict[str, Any]:
    """The structure of _tricky() with ordinary values: the baseline to compare against."""
    spec = _base_existing()
    spec["keepalived"]["checks"].append({"name": "chk_other", "process": "sshd", "weight": -2})
    return spec


def _tricky() -> dict[str, Any]:
    spec = _base_existing()
    spec["name"] = "a-b-c"
    spec["tags"] = TRICKY_TAGS
    # a DNS name with both of the characters a name may have besides letters and digits; it
    # need not resolve (init-addr last,libc,none). Not localhost: that is the LB's own loopback,
    # refused since issue 11.
    spec["regions"][0]["backends"][0]["address"] = "app-1.backend-2.internal"
    spec["access"]["ssh_key_name"] = "..-_.key.pem"
    spec["access"]["ssh_user"] = "_-"
    spec["backends"]["health_check_path"] = "/../~a/./b-c_d.e//"
    spec["haproxy"]["sticky_cookie"] = "-_-"
    spec["keepalived"]["checks"].append({"name": "chk_other", "process": "x..-_.y", "weight": -2})
    return spec


@pytest.mark.root  # the keepalived checker's network namespace
@pytest.mark.tools
def test_tricky_values_stay_data(tmp_path: Path) -> None:
    """Values each pattern admits, with the characters that mean something somewhere (= / : @ -
    . and spaces), built by the CLI: HCL keeps them as literals (parsed), YAML as strings, and
    the configs Ansible renders from them pass keepalived/haproxy checks with exactly the
    directives of a benign build."""
    from hacompile.standins.ansible_render import render_bundle
    from hacompile.verify.runner import run_checks

    _dump(_tricky(), tmp_path / "tricky.yaml")
    _dump(_benign(), tmp_path / "benign.yaml")
    result = run_cli(["build", "tricky.yaml", "-o", "out-tricky"], cwd=tmp_path)
    assert result.rc == 0, result.stderr
    assert run_cli(["build", "benign.yaml", "-o", "out-benign"], cwd=tmp_path).rc == 0
    out, base = tmp_path / "out-tricky", tmp_path / "out-benign"
    files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    base_files = {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()}
    assert files.keys() == base_files.keys()
    inert.assert_same_structure(
        {k: v for k, v in base_files.items() if not k.endswith("README.md")},
        {k: v for k, v in files.items() if not k.endswith("README.md")},
    )

    # HCL: every tag key and value is a literal of the provider's default_tags, byte for byte.
    providers = (out / "terraform" / "us-east-1" / "providers.tf").read_text()
    literals, _ = inert.hcl_literals(providers)
    for key, value in TRICKY_TAGS.items():
        assert key in literals and value in literals, (key, value)
    # YAML: the inventory carries the backend address and the health path as plain strings.
    inventory = inert.load_yaml((out / "ansible/inventory/hacompile.yml").read_text())
    backend = inventory["all"]["children"]["us_east_1"]["vars"]["haproxy_backend"]
    assert backend["servers"][0]["address"] == "app-1.backend-2.internal"
    assert backend["health_check_path"] == "/../~a/./b-c_d.e//"

    # The configs Ansible renders: same directive skeleton as the benign build, and both pass
    # the real keepalived and haproxy checks (hacompile verify's checkers).
    rendered = render_bundle(out, tmp_path / "render-tricky")
    rendered_base = render_bundle(base, tmp_path / "render-benign")
    for lb, lb_base in zip(rendered, rendered_base, strict=True):
        for attr in ("keepalived_conf", "haproxy_cfg"):
            got = _directives(getattr(lb, attr).read_text())
            want = _directives(getattr(lb_base, attr).read_text())
            assert got == want, (attr, got, want)
        for name, env in lb.eip_env.items():
            _assert_env_file(env, name)
    checks = run_checks(out, only=["keepalived", "haproxy", "shellcheck"])
    failed = [
        (c.name, c.status, c.findings, c.detail) for c in checks if c.status.value != "passed"
    ]
    assert not failed, failed


def _directives(text: str) -> list[str]:
    """The first word of every non-comment line: what keepalived/haproxy parse as keywords."""
    return [
        line.split()[0]
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _assert_env_file(path: Path, name: str) -> None:
    """The EIP settings file is only KEY='value' lines: sh -n and shellcheck are clean, and
    sourcing it in a clean shell defines nothing but those variables."""
    text = path.read_text(encoding="utf-8")
    # The grammar hacompile-eip-claim enforces before it sources the file (its `keys=` line).
    claim = (
        Path(__file__).resolve().parents[2]
        / "templates"
        / "ansible"
        / "roles"
        / "keepalived"
        / "files"
        / "hacompile-eip-claim"
    ).read_text(encoding="utf-8")
    found = re.search(r"^keys='([A-Z_|]+)'$", claim, re.MULTILINE)
    keys = found.group(1) if found else "[A-Z_]+"
    # ... continued on further lines as keys="$keys|MORE|KEYS"
    for more in re.findall(r'^keys="\$keys\|([A-Z_|]+)"$', claim, re.MULTILINE):
        keys += "|" + more
    for line in text.splitlines():
        assert re.fullmatch(rf"#.*|({keys})='[^']*'", line), (name, line)
    assert subprocess.run(["sh", "-n", str(path)], timeout=10).returncode == 0
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is required (apt-get install shellcheck)"
    proc = subprocess.run(
        [shellcheck, "-s", "sh", "-e", "SC2034", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout


# --- the spec's file name -------------------------------------------------------------------


def test_file_name_with_a_newline_is_refused(tmp_path: Path) -> None:
    """The file name is copied into HCL and YAML comments; a newline would end the comment."""
    name = 'ha\nresource "null_resource" "x" {}\n.yaml'
    (tmp_path / name).write_text("version: 1\n", encoding="utf-8")
    result = run_cli(["validate", name], cwd=tmp_path)
    assert not result.problems(), (result.problems(), result.stderr)
    assert "the file name contains a newline" in result.stderr
    assert 'ha\\nresource "null_resource"' in result.stderr  # shown escaped, on one line


def test_printable_hostile_file_name_stays_a_comment(tmp_path: Path) -> None:
    name = "x${file(\"a\")}%{ if 1 }{{ lookup('pipe','id') }}`id`$(id)'#.yaml"
    spec = _dump(_base_demo(), tmp_path / name)
    files = _files(spec)
    baseline = _files(_dump(_base_demo(), tmp_path / "ha.yaml"))
    inert.assert_same_structure(baseline, files)
    for path, content in files.items():
        for line in content.decode().splitlines():
            if name in line:  # only ever inside a comment (or the README's prose)
                assert (
                    line.lstrip().startswith("#") or path.endswith(".md") or path.endswith(".json")
                ), (path, line)


# --- the escaping layers on their own -------------------------------------------------------


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_hcl_literal_parses_back_to_the_same_string(label: str) -> None:
    from hacompile.render import hcl

    value = HOSTILE[label]
    text = f"locals {{\n  x = {hcl.literal(value)}\n  y = {hcl.literal([value, value])}\n}}\n"
    literals, live = inert.hcl_literals(text)
    assert literals.count(value) == 3 and live == 0, (literals[:3], live)


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_yaml_dumper_round_trips_and_marks_jinja_unsafe(label: str) -> None:
    from hacompile.render.yamlout import dump_yaml

    value = HOSTILE[label]
    if "\x00" in value:  # not representable in a file Ansible reads; refused earlier
        return
    loaded = inert.load_yaml(dump_yaml({"x": value, "l": [value], value or "k": 1}))
    assert loaded["x"] == value and loaded["l"] == [value] and (value or "k") in loaded
    jinja = any(m in value for m in inert.JINJA_MARKERS)
    assert isinstance(loaded["x"], inert.Unsafe) == jinja


@pytest.mark.tools  # ansible
def test_ansible_does_not_template_unsafe_values(tmp_path: Path) -> None:
    """Real Ansible reads a dumped inventory: the Jinja in a value stays text, and no command
    runs (the pipe lookup would create the marker file)."""
    from hacompile.render.yamlout import dump_yaml
    from hacompile.verify.tools import executable

    marker = tmp_path / "pwned"
    value = f"{{{{ lookup('pipe', 'touch {marker}') }}}}"
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        dump_yaml(
            {"all": {"hosts": {"localhost": {"ansible_connection": "local", "hostile": value}}}}
        ),
        encoding="utf-8",
    )
    ansible = executable("ansible-playbook").with_name("ansible")
    proc = subprocess.run(
        [
            str(ansible),
            "localhost",
            "-i",
            str(inventory),
            "-m",
            "ansible.builtin.debug",
            "-a",
            "var=hostile",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "ANSIBLE_NOCOLOR": "1",
            "HOME": str(tmp_path),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        },
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lookup('pipe'" in proc.stdout, proc.stdout
    assert not marker.exists(), "Ansible ran the lookup: the value was templated"


# --- the HCL templates only interpolate raw what a pattern restricts ------------------------

# Every value a .tf template writes into HCL code goes through `| hcl` (a whole literal) or
# `| hcl_inner` (a fragment of a quoted string beside Terraform's own `${...}`), as the last
# filter. Raw `{{ ... }}` is left only where hacompile.render.env's docstring says:
# - in identifier position (variable, output and argument names, the module label, resource
#   labels and `moved` addresses), names hacompile chooses: the module interface's names
#   (hacompile.plan.module), our two security group names, and the moved addresses built from
#   the rendered module's resource labels and egress rule keys ([a-z0-9_]);
# - the module interface's type constraints and validation conditions: fixed Terraform text
#   written in hacompile.plan.module, never spec input;
RAW_HCL_IDENTIFIERS = {
    "input.name",
    "output.name",
    "arg.name",
    "module.call",
    "group",
    "module.created_index",
    "from",
    "to",
    "input.type",
    "v.condition",
    # attribute and key names fixed in hacompile.plan.module (Module.lb_ansible_host is id or
    # public_ip, Module.dns_record_key is name or record_name), never spec input
    "module.lb_ansible_host",
    "module.dns_record_key",
}
# - in `#` comments, where only a line break could start code: DNS labels and identifiers,
#   hacompile's own constants, an integer, and the checkov/trivy tables (printable, below);
RAW_HCL_COMMENTS = {
    "plan.name",
    "region.name",
    "region.names.prefix",
    "plan.hacompile_version",
    "plan.spec_file",
    "plan.deployment_tag_key",
    "region.flow_logs.retention_days",
    "skip.check",
    "skip.reason",
    "ignore.check",
    "ignore.reason",
    "ignore.key",
}
# - the calls of our own macros, which escape what they write by these same rules.
_MACRO_CALL = re.compile(
    r'(checkov|trivy)\(("[a-z0-9_.]+"|address), plan\)'
    r'|egress\("(lb|backend)", plan\)'
)
_INTERPOLATION = re.compile(r"{{-?\s*(.*?)\s*-?}}")
_ESCAPED = re.compile(r".*\|\s*hcl(_inner|_argument)?")


def raw_hcl_offenders(root: Path) -> list[str]:
    """Each raw `{{ }}` of the .tf templates under `root` that none of the rules above admits."""
    offenders = []
    for template in sorted(root.rglob("*.tf.jinja")):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            comment = line.lstrip().startswith("#")
            for expr in _INTERPOLATION.findall(line):
                if _ESCAPED.fullmatch(expr) or _MACRO_CALL.fullmatch(expr):
                    continue
                allowed = RAW_HCL_COMMENTS if comment else RAW_HCL_IDENTIFIERS
                if expr not in allowed:
                    offenders.append(f"{template.name}:{number}: {{{{ {expr} }}}}")
    return offenders


def test_tf_templates_interpolate_raw_only_restricted_values() -> None:
    from hacompile.render.env import template_root

    offenders = raw_hcl_offenders(template_root() / "terraform")
    assert not offenders, (
        "use `| hcl` or `| hcl_inner` (or extend RAW_HCL_IDENTIFIERS / "
        "RAW_HCL_COMMENTS with a reason, and hacompile.render.env's docstring):\n"
        + "\n".join(offenders)
    )
    from hacompile.render.checkov import SKIPS

    for skip in SKIPS:  # inside a comment only a line break could start code
        assert skip.check.isprintable() and skip.reason.isprintable(), skip
    from hacompile.pipeline import compile_spec
    from hacompile.render.trivyignore import ignores_for_plan

    for blueprint in sorted((template_root().parent / "blueprints").glob("*.yaml")):
        for ignore in ignores_for_plan(compile_spec(blueprint).plan):
            assert ignore.check.isprintable() and ignore.reason.isprintable(), ignore
