"""Private virtual IPs (`regions[].vips`): addresses inside the VPC that an Elastic IP cannot be.

Two ways to move one between load balancers, as AWS offers them:
- `route`: an overlay /32 outside every VPC CIDR of the spec, reached through route-table entries
  the new master points at its own interface (Pacemaker's aws-vpc-move-ip, the SAP on AWS
  overlay IP). Works across availability zones; clients must use the tables named.
- `secondary_ip`: a private IP of the holders' shared subnet, reassigned to the new master's
  interface. No route tables, but a subnet lives in one zone, so every holder must share it.
Cross-field rules (addresses, subnets, route tables, capacity) live in hacompile.spec.vip_rules.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hacompile.spec.types import Identifier, IPv4

MAX_VIPS = 8
MAX_ROUTE_TABLES = 10  # the claim's bound (hacompile-eip-claim) and a sane blast radius
VIPS = (
    f"At most {MAX_VIPS} private virtual IPs per region, each its own VRRP instance; "
    "VRIDs follow the EIPs' (keepalived.vrid_base + load_balancers.count + index)."
)
RouteTableId = Annotated[str, StringConstraints(pattern=r"^rtb-([0-9a-f]{8}|[0-9a-f]{17})$")]
LbKey = Annotated[str, StringConstraints(pattern=r"^lb[1-8]$")]


class VipSpec(BaseModel):
    """One private VIP: its VRRP instance is named `name`, its address moves by `strategy`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Identifier
    strategy: Literal["route", "secondary_ip"]
    address: IPv4
    # route: the route tables whose VIP/32 entry the master points at itself. Omitted in a VPC
    # the bundle creates: its own route table. Required with regions[].vpc_id.
    route_tables: Annotated[list[RouteTableId], Field(max_length=MAX_ROUTE_TABLES)] = []
    # The load balancers that may hold it, in takeover order after the first (its owner).
    # Omitted: all of them, the owner chosen in rotation so VIPs spread like the EIPs.
    load_balancers: Annotated[list[LbKey], Field(max_length=8)] = []
