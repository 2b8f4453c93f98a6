"""The cloud host's EC2 endpoint: the stand-ins' fault proxy on the lab's address, which wakes
the edge and router sync on every call that moves an address and moves a reassigned secondary
IP in moto as EC2 does (hacompile.lab.router.release_elsewhere).

Why apart from hacompile.lab.cloud: the proxy is what the claims talk to, the rest of the cloud
host is what follows it; the unit tests start the proxy alone, on loopback.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from hacompile.lab import router
from hacompile.standins.faultproxy import Fault, FaultProxy
from hacompile.standins.moto import ec2_client

__all__ = ["LabFaultProxy"]


class LabFaultProxy(FaultProxy):
    """The stand-ins' FaultProxy, listening on the cloud host's lab address instead of
    127.0.0.1, and waking the edge and router sync whenever an address or VIP call passes."""

    def __init__(
        self,
        upstream: str,
        host: str,
        port: int,
        kick: threading.Event,
        region: str = "us-east-1",
        enis: tuple[str, ...] = (),
    ) -> None:
        super().__init__(upstream, host=host, port=port)
        self.kick = kick
        self.region, self.enis = region, enis  # the LBs' ENIs: where a reassignment moves from
        self._ec2: Any = None  # straight to moto (boto3 clients are thread-safe)

    def admit(self, action: str, params: Mapping[str, str]) -> Fault | None:
        if action in ("AssociateAddress", "DisassociateAddress", *router.VIP_ACTIONS):
            self.kick.set()
        fault = super().admit(action, params)
        if fault is None and action == "AssignPrivateIpAddresses" and self.enis:
            # EC2 moves a reassigned address; moto 5.2.1 would list it on both ENIs.
            if self._ec2 is None:
                self._ec2 = ec2_client(self.upstream, self.region)
            router.release_elsewhere(self._ec2, params, self.enis)
        return fault
