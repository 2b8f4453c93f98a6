"""Per-ENI private IPv4 limits and CPU architecture of common EC2 instance types.

hacompile gives every load balancer one management address plus one secondary private IP
"slot" per Elastic IP of its region, all on the primary ENI, so N load balancers need N + 1
addresses per ENI. The figures are AWS's published "IPv4 addresses per interface"; a type not
listed here can still be used by stating `load_balancers.ipv4_per_eni` in the spec.
"""

from __future__ import annotations

from typing import Literal

Arch = Literal["x86_64", "arm64"]

# size -> IPv4 addresses per ENI, shared by the general-purpose families of one generation.
_BURSTABLE = {
    "nano": 2,
    "micro": 2,
    "small": 4,
    "medium": 6,
    "large": 12,
    "xlarge": 15,
    "2xlarge": 15,
}
_NITRO = {
    "large": 10,
    "xlarge": 15,
    "2xlarge": 15,
    "4xlarge": 30,
    "8xlarge": 30,
    "9xlarge": 30,
    "12xlarge": 30,
    "16xlarge": 50,
    "18xlarge": 50,
    "24xlarge": 50,
}

_FAMILIES: dict[str, tuple[dict[str, int], Arch]] = {
    "t3": (_BURSTABLE, "x86_64"),
    "t3a": (_BURSTABLE, "x86_64"),
    "t4g": (_BURSTABLE, "arm64"),
    **{
        f: (_NITRO, "x86_64")
        for f in (
            "m5",
            "m6i",
            "m7i",
            "c5",
            "c5n",
            "c6i",
            "c7i",
            "r5",
            "r6i",
            "r7i",
            "m6a",
            "m7a",
            "c6a",
            "c7a",
        )
    },
    **{f: (_NITRO, "arm64") for f in ("m6g", "m7g", "c6g", "c6gn", "c7g", "r6g", "r7g")},
}


def lookup(instance_type: str) -> tuple[int, Arch] | None:
    """(IPv4 addresses per ENI, architecture) for a known type, else None."""
    family, _, size = instance_type.partition(".")
    entry = _FAMILIES.get(family)
    if entry is None or size not in entry[0]:
        return None
    return entry[0][size], entry[1]


def ipv4_limit(instance_type: str, override: int | None) -> int | None:
    """Private IPv4 addresses per ENI: the spec's `load_balancers.ipv4_per_eni`, else the
    table's; None for a type hacompile does not know (the rules report it once)."""
    known = lookup(instance_type)
    return override or (known[0] if known else None)


def architecture(instance_type: str) -> Arch:
    """Graviton families are arm64; everything else hacompile deploys is x86_64."""
    family = instance_type.partition(".")[0]
    entry = _FAMILIES.get(family)
    if entry is not None:
        return entry[1]
    return "arm64" if family.endswith("g") or "g" in family[2:] else "x86_64"


def known_types() -> tuple[str, ...]:
    return tuple(sorted(f"{fam}.{size}" for fam, (sizes, _) in _FAMILIES.items() for size in sizes))
