"""Property-based tests: valid specs build into well-formed bundles; mutated specs and mangled
YAML either build or fail with located errors; nothing ever raises anything else.

Examples per test come from the Hypothesis profile (see docs/hostile-input.md):
``HYPOTHESIS_PROFILE=hostile-ci`` (the default here: bounded, derandomised, no example database
written into the checkout) or ``hostile-long`` for a long local run.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from hacompile.errors import Severity, SpecError
from hacompile.pipeline import compile_spec
from hacompile.render import features
from hacompile.render.env import template_root
from tests.hostile import inert

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("hostile-ci", max_examples=25, derandomize=True, database=None, **_COMMON)
settings.register_profile(
    "hostile-long", max_examples=int(os.environ.get("HACOMPILE_FUZZ_EXAMPLES", "2000")), **_COMMON
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "hostile-ci")
if not PROFILE.startswith("hostile-"):
    PROFILE = "hostile-ci"
EXAMPLES = settings.get_profile(PROFILE).max_examples

# --- a strategy for valid specs -------------------------------------------------------------

REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-south-1",
    "sa-east-1",
    "us-gov-west-1",
]
# instance type -> most load balancers it takes (IPv4 addresses per ENI - 1), capped at 8
LB_TYPES = {
    "t3.small": 3,
    "t3.medium": 5,
    "t3.large": 8,
    "c5.large": 8,
    "m6i.xlarge": 8,
    "t4g.medium": 5,
    "c7g.large": 8,
}
lower = "abcdefghijklmnopqrstuvwxyz"
names = (
    st.text(lower + "0123456789-", min_size=0, max_size=20)
    .map(lambda s: ("c" + s).rstrip("-") or "c")
    .filter(lambda s: len(s) >= 2 and not s.endswith("-"))
)
identifiers = st.text(lower + "0123456789_", max_size=12).map(lambda s: "x" + s)
tag_text = st.text("abcXYZ019 _.:/=+@-", max_size=30)


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    region_names = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True))
    lb_type = draw(st.sampled_from(sorted(LB_TYPES)))
    count = draw(st.integers(2, LB_TYPES[lb_type]))
    flavor = (
        "community"
        if lb_type.startswith(("t4g", "c7g"))
        else draw(st.sampled_from(["community", "hapee"]))
    )
    demo = draw(st.booleans())
    regions = []
    for ri, name in enumerate(region_names):
        zones = draw(st.integers(2, 3))
        second = ri * 10 + draw(st.integers(0, 9))
        region: dict[str, Any] = {
            "name": name,
            "vpc_cidr": f"10.{second}.0.0/16",
            "zones": [f"{name}{z}" for z in "abc"[:zones]],
        }
        if not demo:
            count_b = draw(st.integers(1, 5))
            region["backends"] = [
                {
                    "name": f"app{b}",
                    "address": draw(
                        st.sampled_from(
                            [f"10.{ri * 10}.200.{b + 1}", f"app{b}.internal.example.com"]
                        )
                    ),
                }
                for b in range(count_b)
            ]
        regions.append(region)
    process = "hapee-lb" if flavor == "hapee" else "haproxy"
    frontends = draw(
        st.lists(
            st.tuples(identifiers, st.integers(80, 9000)),
            min_size=1,
            max_size=3,
            unique_by=(lambda f: f[0], lambda f: f[1]),
        )
    )
    vrrp = draw(st.sampled_from([2, 3]))
    spec: dict[str, Any] = {
        "version": 1,
        "name": draw(names),
        "regions": regions,
        "load_balancers": {"count": count, "instance_type": lb_type, "flavor": flavor},
        "backends": {"port": draw(st.integers(1, 65535))},
        "haproxy": {
            "balance": draw(st.sampled_from(["roundrobin", "leastconn", "source"])),
            "frontends": [
                {"name": n, "port": p if p != 22 else 2222, "mode": "http"} for n, p in frontends
            ],
            "timeouts": {"connect": draw(st.sampled_from(["500ms", "5s", "1m"]))},
        },
        "keepalived": {
            "vrrp_version": vrrp,
            "advert_int": draw(st.sampled_from([1, 2] if vrrp == 2 else [0.5, 1, 0.25])),
            "priority": {"master": 110, "backup": 100, "step": 5},
            "process_checks": draw(st.sampled_from(["script", "track_process"])),
            "checks": [
                {"name": "chk_lb", "process": process, "weight": 30},
                {"name": "chk_gw", "gateway": True},
            ],
        },
        "access": {
            "ssh_key_name": draw(st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True)),
            "ssh_cidrs": ["203.0.113.0/24"],
        },
        "tags": draw(
            st.dictionaries(
                st.from_regex(r"[a-z][a-z0-9_.:/=+@-]{0,15}", fullmatch=True).filter(
                    lambda k: not k.startswith("aws:")
                ),
                tag_text,
                max_size=4,
            )
        ),
    }
    if demo:
        spec["backends"]["demo"] = {"count": draw(st.integers(1, 12))}
    if flavor == "hapee":  # the AMI needs a product code hacompile knows, the spec's, or a pin
        how = draw(st.sampled_from(["known", "code", "pinned"]))
        if how == "known":
            spec["load_balancers"]["hapee_version"] = "1.8"
        elif how == "code":
            spec["load_balancers"]["ami_product_code"] = "483gxnuft87jy44d3q8n4kvt1"
        else:
            for region in regions:
                region["ami_id"] = "ami-0123456789abcdef0"
    # A flow-log bucket must be in the regions' partition (one bucket cannot serve both).
    partitions = {"aws-us-gov" if "-gov-" in name else "aws" for name in region_names}
    flow_logs: list[dict[str, Any]] = [{}, {"destination": "none"}, {"retention_days": 30}]
    if len(partitions) == 1:
        flow_logs.append(
            {"destination": "s3", "s3_bucket_arn": f"arn:{partitions.pop()}:s3:::flow-logs/x"}
        )
    spec["security"] = {
        "flow_logs": draw(st.sampled_from(flow_logs)),
        "egress": draw(
            st.sampled_from(
                [
                    {},
                    {"unrestricted": True},
                    {"allow": [{"cidr": "192.168.0.0/16", "port": 5432, "protocol": "tcp"}]},
                ]
            )
        ),
    }
    if draw(st.booleans()):
        spec["haproxy"]["stats"] = {"port": 8404, "cidrs": ["10.0.0.0/8"]}
        assume(all(f["port"] != 8404 for f in spec["haproxy"]["frontends"]))
    if draw(st.booleans()):
        spec["haproxy"]["sticky_cookie"] = draw(
            st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
        )
        spec["backends"]["health_check_path"] = draw(
            st.from_regex(r"/[a-z0-9._~/-]{0,20}", fullmatch=True)
        )
    return spec


def _dump(spec: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.width = 1 << 20
    yaml.allow_unicode = True
    buffer = io.StringIO()
    yaml.dump(spec, buffer)
    return buffer.getvalue()


def _compile_text(text: str | bytes) -> dict[str, bytes] | SpecError:
    """Compile a spec given as text; return the bundle's files or the SpecError, and let any
    other exception propagate (that is the failure these tests look for)."""
    with tempfile.TemporaryDirectory(prefix="hc-prop-") as tmp:
        path = Path(tmp) / "ha.yaml"
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        try:
            compiled = compile_spec(path)
        except SpecError as exc:
            _assert_located(exc, str(path))
            return exc
    return {str(f.path): f.content for f in compiled.bundle.files}


def _assert_located(exc: SpecError, file: str) -> None:
    assert exc.diagnostics, "a SpecError without diagnostics"
    assert any(d.severity is Severity.ERROR for d in exc.diagnostics)
    for diag in exc.diagnostics:
        assert diag.file == file and diag.line >= 1 and diag.column >= 1, diag
        rendered = diag.render()
        assert rendered.isprintable() and rendered.startswith(f"{file}:{diag.line}:"), rendered


# --- properties -----------------------------------------------------------------------------


@settings(settings.get_profile(PROFILE))
@given(valid_specs())
def test_valid_specs_build_into_well_formed_bundles(spec: dict[str, Any]) -> None:
    result = _compile_text(_dump(spec))
    assert not isinstance(result, SpecError), "\n".join(d.render() for d in result.diagnostics)
    inert.summary(result)  # HCL parses, YAML and JSON load, Jinja only under !unsafe
    scripts = {name: content for name, content in result.items() if "/files/" in name}
    root = template_root()
    # Scripts are copied, never rendered from the spec: only the optional sections' marked
    # lines (hacompile.render.features) are kept or dropped, and these specs have none.
    for name, content in scripts.items():
        assert features.apply((root / name).read_bytes(), frozenset(), name) == content, name


def test_bundle_scripts_are_shellcheck_clean() -> None:
    """The scripts every bundle carries (verbatim, see above) pass shellcheck."""
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is required (apt-get install shellcheck)"
    scripts = [
        p
        for p in (template_root() / "ansible" / "roles").glob("*/files/*")
        if p.read_bytes().startswith(b"#!/bin/sh")
    ]
    assert scripts
    proc = subprocess.run(
        [shellcheck, "-s", "sh", *map(str, scripts)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "~",
            "0x1F",
            "1e3",
            "10.0.0.0/8",
            "${x}",
            "{{ x }}",
            "a\nb",
            "",
            "-1",
            "2.0",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    spec = draw(valid_specs())
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(spec)
        path = draw(st.sampled_from(paths))
        parent: Any = spec
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "unknown_key", "wrap"]))
        if action == "replace":
            parent[path[-1]] = draw(JUNK)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "unknown_key" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(JUNK)
        elif action == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
    return spec


@settings(settings.get_profile(PROFILE), max_examples=EXAMPLES * 4)
@given(mutated_specs())
def test_mutated_specs_build_or_fail_located(spec: Any) -> None:
    result = _compile_text(_dump(spec))
    if not isinstance(result, SpecError):
        inert.summary(result)


@st.composite
def mangled_yaml(draw: st.DrawFn) -> bytes:
    """A valid spec's YAML with bytes inserted, deleted or overwritten (tabs, quotes, colons,
    brackets, anchors, tags, control characters, invalid UTF-8 ...)."""
    raw = bytearray(_dump(draw(valid_specs())).encode())
    specials = st.sampled_from(
        [
            b"\t",
            b"'",
            b'"',
            b":",
            b"- ",
            b"[",
            b"{",
            b"&a ",
            b"*a",
            b"!!python/object ",
            b"\x00",
            b"\x07",
            b"\xff",
            b"\xef\xbb\xbf",
            b"\n",
            b"  ",
            b"#",
            b"<<: ",
            b"? ",
            b"|",
            b">",
            b"%YAML 1.1\n",
        ]
    )
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(raw)))
        kind = draw(st.sampled_from(["insert", "delete", "overwrite"]))
        chunk = draw(st.one_of(specials, st.binary(min_size=1, max_size=4)))
        if kind == "insert":
            raw[at:at] = chunk
        elif kind == "delete":
            del raw[at : at + draw(st.integers(1, 8))]
        else:
            raw[at : at + len(chunk)] = chunk
    return bytes(raw)


@settings(settings.get_profile(PROFILE), max_examples=EXAMPLES * 4)
@given(mangled_yaml())
def test_mangled_yaml_builds_or_fails_located(raw: bytes) -> None:
    result = _compile_text(raw)
    if not isinstance(result, SpecError):
        inert.summary(result)


# Backend addresses that are never a server: each is refused, located at the address itself.
UNSAFE_ADDRESSES = st.one_of(
    *(
        st.ip_addresses(v=4, network=net).map(str)
        for net in ("127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4")
    ),
    st.sampled_from(
        [
            "0.0.0.0",
            "localhost",
            "ip6-localhost",
            "localhost.localdomain",
            "instance-data",
            "instance-data.ec2.internal",
        ]
    ),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}\.localhost", fullmatch=True),
)


@settings(settings.get_profile(PROFILE))
@given(valid_specs(), UNSAFE_ADDRESSES)
def test_unsafe_backend_addresses_are_refused_at_the_address(
    spec: dict[str, Any], address: str
) -> None:
    region = spec["regions"][-1]
    if "backends" not in region:
        spec["backends"].pop("demo", None)
        for other in spec["regions"]:
            other["backends"] = [{"name": "app0", "address": "app0.internal.example.com"}]
    index = len(spec["regions"]) - 1
    region["backends"][0]["address"] = address
    result = _compile_text(_dump(spec))
    assert isinstance(result, SpecError), address
    wanted = f"regions[{index}].backends[0].address"
    assert any(d.path == wanted and d.severity is Severity.ERROR for d in result.diagnostics), (
        address,
        result.diagnostics,
    )
