"""The existing network a region root states, as the stand-in provider answers it.

Why: a root deploying into an existing VPC (spec `regions[].vpc_id`) reads the VPC, its subnets
and their route tables with data sources whose postconditions stop the plan when the account
is not what the spec says. The stand-in provider answers a data source with placeholder
values, which would fail those checks on every good bundle. So `terraform-real` tells it what
the spec states (the VPC's CIDR, each subnet's VPC, zone and CIDR, a route to an internet
gateway): the plan then proves the bundle plans against the network the spec describes, and
tests/verify/test_tfnetwork.py proves each postcondition refuses a network that differs. Read
from the root's own `module` call, so what is checked is what Terraform is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from hacompile.verify.tfmodel import unquote

__all__ = ["IGW", "existing_network"]

IGW = "igw-0hacompilestandin0"
_NO_COMMENTS = SerializationOptions(with_comments=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return unquote(value) if isinstance(value, str) else value


def existing_network(root: Path) -> dict[str, dict[str, dict[str, Any]]] | None:
    """{data source type: {lookup key: attributes}} for the root's existing VPC, or None when
    the root creates its network."""
    main = root / "main.tf"
    if not main.is_file():
        return None
    doc = hcl2.loads(main.read_text(encoding="utf-8"), serialization_options=_NO_COMMENTS)
    for entry in doc.get("module", []):
        for body in entry.values():
            args = _plain(body)
            vpc_id = args.get("vpc_id")
            if not isinstance(vpc_id, str) or not vpc_id.startswith("vpc-"):
                continue
            cidr = str(args.get("vpc_cidr"))
            subnets = args.get("subnets") or {}
            return {
                "aws_vpc": {
                    vpc_id: {
                        "cidr_block": cidr,
                        "cidr_block_associations": [
                            {
                                "association_id": "vpc-cidr-assoc-0",
                                "cidr_block": cidr,
                                "state": "associated",
                            }
                        ],
                    }
                },
                "aws_subnet": {
                    str(s["id"]): {
                        "vpc_id": vpc_id,
                        "availability_zone": str(s["zone"]),
                        "cidr_block": str(s["cidr"]),
                    }
                    for s in subnets.values()
                    if isinstance(s, dict) and s.get("id")
                },
                "aws_route_table": {
                    str(s["id"]): {"routes": [{"cidr_block": "0.0.0.0/0", "gateway_id": IGW}]}
                    for s in subnets.values()
                    if isinstance(s, dict) and s.get("id")
                },
            }
    return None
