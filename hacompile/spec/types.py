"""Constrained scalar types shared by the spec model.

Every free-text value in a spec ends up in HCL, shell, YAML, Jinja run by Ansible and the
Keepalived/HAProxy configs. So each type is a pattern that admits only characters with a
legitimate use there: rejecting a quote or a brace at validation, with a located error, is
simpler and safer than escaping it correctly in six languages.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def _cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 CIDR such as 10.20.0.0/16") from None
    if "/" not in value:
        raise ValueError(f"{value!r} has no prefix length; write it as {net.network_address}/NN")
    if str(net) != value:
        raise ValueError(f"{value!r} has host bits set; did you mean {net}?")
    return value


def _address(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
IPv4 = Annotated[str, AfterValidator(_address)]

# Used in tags, file names, SSM paths and host names: lower-case DNS label, no leading digit.
ClusterName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$", max_length=24)
]
# Keepalived/HAProxy identifiers and file names: no characters that could open a directive.
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,30}$")]
# Linux truncates a process name (comm) to 15 characters; pgrep -x matches that name.
ProcessName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$")]
_REGION = r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]"
RegionName = Annotated[str, StringConstraints(pattern=rf"^{_REGION}$")]
ZoneName = Annotated[str, StringConstraints(pattern=rf"^{_REGION}[a-z]$")]
InstanceType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]
KeyPairName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,255}$")]
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def _backend_address(value: str) -> str:
    """An IPv4 address or a DNS name; HAProxy resolves names when it starts."""
    try:
        ipaddress.IPv4Address(value)
        return value
    except ValueError:
        pass
    # fullmatch, not match: Python's `$` also matches before a trailing newline, which would
    # let "app.internal\n" through into haproxy.cfg (tests/hostile/test_injection.py).
    if len(value) > 253 or not _HOST.fullmatch(value) or value.replace(".", "").isdigit():
        raise ValueError(f"{value!r} is neither an IPv4 address nor a DNS name")
    return value


# Tag keys the bundle sets itself. `hacompile:` is its prefix (hacompile:cluster names the
# cluster on every resource, and the IAM policy matches interfaces by it); Name and Role are set
# on each resource, and a resource's own tags override the provider's default_tags, so a user
# value for any of them would be dropped without a word.
RESERVED_TAG_PREFIX = "hacompile:"
RESERVED_TAG_KEYS = ("Name", "Role")


def _tag_key(value: str) -> str:
    if value.lower().startswith("aws:"):
        raise ValueError("tag keys starting with `aws:` are reserved by AWS")
    if value.lower().startswith(RESERVED_TAG_PREFIX):
        raise ValueError(
            f"tag keys starting with `{RESERVED_TAG_PREFIX}` are reserved: the "
            "bundle sets hacompile:cluster on every resource itself"
        )
    if value in RESERVED_TAG_KEYS:
        raise ValueError(
            f"the bundle sets the `{value}` tag on each resource itself, and a "
            "resource's own tags override the provider's default tags: yours "
            "would be dropped"
        )
    return value


# HAProxy keeps timeouts in milliseconds as a signed 32-bit int and refuses larger ones.
MAX_DURATION_MS = 2**31 - 1
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def duration_ms(value: str) -> int:
    """A Duration (``30s``) in milliseconds."""
    unit = value.lstrip("0123456789")
    return int(value[: -len(unit)]) * _UNIT_MS[unit]


def _duration(value: str) -> str:
    if duration_ms(value) > MAX_DURATION_MS:
        raise ValueError(
            f"{value} is {duration_ms(value)} ms; HAProxy refuses timeouts past "
            f"{MAX_DURATION_MS} ms (2^31-1, about 596 h or 24.8 days)"
        )
    return value


BackendAddress = Annotated[str, AfterValidator(_backend_address)]


def _route_host(value: str) -> str:
    """A route's host: an exact DNS name or a wildcard `*.example.com` (any name ending in
    `.example.com`, not example.com itself). Lower case: HTTP host names are matched
    case-insensitively, and HAProxy lower-cases the header before comparing."""
    name = value.removeprefix("*.")
    if "*" in name:
        raise ValueError(
            f"{value!r}: `*` may only stand as the whole first label, as in *.example.com"
        )
    if ":" in value:
        raise ValueError(f"{value!r}: a route's host has no port (the frontend's port is implied)")
    if value != value.lower():
        raise ValueError(f"{value!r}: write host names in lower case ({value.lower()})")
    if len(name) > 253 or not _HOST.fullmatch(name):
        raise ValueError(f"{value!r} is not a host name such as api.example.com or *.example.com")
    return value


def _route_path(value: str) -> str:
    """A route's path prefix, matched segment by segment: `/api` matches /api and /api/...,
    not /apis. Query strings and patterns are not part of a prefix."""
    if not value.startswith("/"):
        raise ValueError(f"{value!r}: a path prefix starts with /")
    if "*" in value or "?" in value:
        raise ValueError(
            f"{value!r}: a path is a prefix, not a pattern or a query: "
            f"write {value.split('*')[0].split('?')[0] or '/'}"
        )
    if "//" in value or "/./" in value or "/../" in value or value.endswith(("/.", "/..")):
        raise ValueError(f"{value!r}: empty, `.` and `..` segments never reach a pool as written")
    if not _ROUTE_PATH.fullmatch(value):
        raise ValueError(
            f"{value!r} is not allowed here: an absolute URL path of letters, digits "
            "and . _ ~ / - (at most 200)"
        )
    return value


_ROUTE_PATH = re.compile(r"/[A-Za-z0-9._~/-]{0,200}")
RouteHost = Annotated[str, AfterValidator(_route_host)]
RoutePath = Annotated[str, AfterValidator(_route_path)]
# A pool's name: an HAProxy backend name, a Terraform key and, in demo servers' names
# (<cluster>-<region>-<pool>-<n>), part of a host name: a lower-case DNS label.
PoolName = Annotated[str, StringConstraints(pattern=r"^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$")]
# AWS's own tag alphabet (letters, digits, spaces, _ . : / = + - @): no $ { } % quotes or newlines.
TagKey = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9 _.:/=+@-]{1,128}$"), AfterValidator(_tag_key)
]
TagValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 _.:/=+@-]{0,256}$")]
Duration = Annotated[
    str, StringConstraints(pattern=r"^[1-9][0-9]{0,6}(ms|s|m|h)$"), AfterValidator(_duration)
]
VpcId = Annotated[str, StringConstraints(pattern=r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")]
SubnetId = Annotated[str, StringConstraints(pattern=r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")]
SecurityGroupId = Annotated[str, StringConstraints(pattern=r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")]
HttpPath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._~/-]{0,200}$")]
CookieName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
# An HTTP header name HAProxy takes as a bare word: letters, digits and '-' (RFC 9110 tokens
# allow more, but nothing here needs them and none of them can break the config).
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Weight = Annotated[int, Field(ge=-253, le=253)]
Priority = Annotated[int, Field(ge=1, le=254)]


def _whole(value: object) -> object:
    """`Literal[1]` admits True and 1.0 (True == 1 == 1.0), strict mode or not: refuse them."""
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got the boolean {str(value).lower()}")
    if isinstance(value, float):
        raise ValueError(f"expected an integer, got float {value!r}")
    return value


# Put before an integer `Literal` (version, vrrp_version).
WholeNumber = BeforeValidator(_whole)


def _help() -> dict[str, str]:
    """What each pattern admits, in words, keyed by the pattern pydantic reports."""
    out: dict[str, str] = {}
    for alias, words in (
        (ClusterName, "lower-case letters, digits and '-', starting with a letter, at most 24"),
        (Identifier, "lower-case letters, digits and '_', starting with a letter, at most 31"),
        (ProcessName, "a process name as Linux shows it: at most 15 of A-Z a-z 0-9 . _ -"),
        (RegionName, "an AWS region name such as us-east-1"),
        (ZoneName, "an availability zone name such as us-east-1a"),
        (InstanceType, "an EC2 instance type such as t3.small"),
        (KeyPairName, "an EC2 key pair name: letters, digits, '.', '_' and '-'"),
        (TagKey, "AWS tag characters only: letters, digits, spaces and _ . : / = + - @"),
        (TagValue, "AWS tag characters only: letters, digits, spaces and _ . : / = + - @"),
        (Duration, "a HAProxy duration such as 500ms, 30s, 5m"),
        (HttpPath, "an absolute URL path of letters, digits and . _ ~ / -"),
        (CookieName, "letters, digits, '_' and '-', at most 32"),
        (VpcId, "a VPC ID such as vpc-0123456789abcdef0"),
        (SubnetId, "a subnet ID such as subnet-0123456789abcdef0"),
        (SecurityGroupId, "a security group ID such as sg-0123456789abcdef0"),
        (PoolName, "lower-case letters, digits and '-', starting with a letter, at most 24"),
        (HeaderName, "an HTTP header name: a letter, then letters, digits and '-', at most 64"),
    ):
        for meta in getattr(alias, "__metadata__", ()):
            pattern = getattr(meta, "pattern", None)
            if pattern:
                out[pattern] = words
    return out


PATTERN_HELP = _help()
