"""`hacompile status`: is the tier in EC2 as the plan says it should be (issue 17)?

`check_status` takes the frozen plan and a factory of EC2 clients (one per region: the
operator's boto3 chain in the CLI, a moto-aimed client in tests) and returns a frozen `Status`
without printing: for every region, who should hold each EIP and private VIP against who does,
each load balancer's instance, and the drift. EC2's answers are read once per region
(hacompile.status.read) and compared with the plan (hacompile.status.compare).

AWS failures (no credentials, an endpoint that does not answer, an API error) become one
`StatusError` line naming the region; nothing here imports boto3 or botocore until a region
is read, and `ec2_clients` says which extra brings them when they are absent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hacompile.plan.model import Plan
from hacompile.status.compare import compare
from hacompile.status.model import AddressStatus, LbStatus, RegionStatus, Status
from hacompile.status.read import read_region

__all__ = [
    "AddressStatus",
    "LbStatus",
    "RegionStatus",
    "Status",
    "StatusError",
    "check_status",
    "ec2_clients",
]

INSTALL_HINT = "pip install 'hacompile[status]'"
ClientFactory = Callable[[str], Any]  # region name -> an EC2 client


class StatusError(Exception):
    """What kept `status` from an answer, in one line: an unknown region, a missing boto3,
    or what AWS (or the way to it) said."""


def ec2_clients() -> ClientFactory:
    """EC2 clients from the default boto3 chain (environment, profile, instance role;
    AWS_ENDPOINT_URL and AWS_PROFILE as boto3 reads them). Short timeouts and three attempts:
    an endpoint that does not answer is an error in seconds, not minutes."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise StatusError(f"`hacompile status` needs boto3: {INSTALL_HINT}") from None
    config = Config(
        connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 3}
    )
    session = boto3.session.Session()
    return lambda region: session.client("ec2", region_name=region, config=config)


def _aws_errors() -> tuple[type[Exception], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.parsers import ResponseParserError
    except ImportError:  # a client that is not boto3's raises its own
        return ()
    return (BotoCoreError, ClientError, ResponseParserError)


def check_status(plan: Plan, clients: ClientFactory, region: str | None = None) -> Status:
    """The status of every region of `plan` (or of `region` only)."""
    regions = plan.regions
    if region is not None:
        regions = tuple(r for r in plan.regions if r.name == region)
        if not regions:
            known = ", ".join(r.name for r in plan.regions)
            raise StatusError(f"the spec has no region {region!r} (it has {known})")
    errors = _aws_errors()
    out = []
    for r in regions:
        try:
            facts = read_region(clients(r.name), plan, r)
        except errors as exc:
            raise StatusError(f"{r.name}: EC2: {' '.join(str(exc).split())}") from None
        out.append(compare(r, facts))
    return Status(tuple(out))
