"""Local stand-ins for EC2 and IMDSv2, so the EIP notify scripts can be exercised without AWS.

Why: the keepalived notify scripts call EC2 (through the AWS CLI) and IMDSv2 (through curl), both
reachable only inside AWS. Tests, `hacompile verify` and the failover lab therefore run them against
a moto server (MotoServer), optionally behind a FaultProxy that injects the 5xx and throttling
answers real EC2 gives under load and counts calls per EC2 Action, and an ImdsStub serving the
metadata paths the scripts read. Everything binds to 127.0.0.1 only.

moto 5.2.1 caveat: AssociateAddress ignores PrivateIpAddress and DescribeAddresses reports the
ENI's primary private IP, so assert the private IP that was *sent* (FaultProxy.requests) and run
hacompile-eip-claim with HACOMPILE_EIP_PRIVATE_IP_CHECK=eni-only against moto.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast
from xml.sax.saxutils import escape

from hacompile.standins.imds import (
    LOCALHOST,
    ImdsInterface,
    ImdsStub,
    OwnedHTTPServer,
    QuietHandler,
    ServedStub,
    imds_metadata,
)

__all__ = [
    "Ec2Lab",
    "Fault",
    "FaultProxy",
    "ImdsInterface",
    "ImdsStub",
    "LabEip",
    "LabEni",
    "MotoServer",
    "ProxiedRequest",
    "association",
    "aws_env",
    "create_lab",
    "ec2_client",
    "free_port",
    "imds_metadata",
]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (moto.server cannot report the port it picked)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def aws_env(endpoint_url: str, region: str = "us-east-1") -> dict[str, str]:
    """Environment for an AWS CLI child aimed at a local endpoint with dummy credentials.

    AWS_EC2_METADATA_DISABLED keeps botocore from ever probing 169.254.169.254 for credentials.
    """
    missing = "/nonexistent/hacompile-aws-config"
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": missing,
        "AWS_SHARED_CREDENTIALS_FILE": missing,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class MotoServer:
    """`python -m moto.server` on 127.0.0.1; ready on enter, always terminated on exit."""

    def __init__(self, *, startup_timeout: float = 30.0, log_path: Path | None = None) -> None:
        self.startup_timeout = startup_timeout
        self.log_path = log_path
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        port = free_port()
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", LOCALHOST, "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            if not isinstance(log, int):
                log.close()
        self.url = f"http://{LOCALHOST}:{port}"
        try:
            self._wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError("moto.server exited during startup")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # any HTTP answer means it is serving
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"moto.server not ready within {self.startup_timeout}s")

    def reset(self) -> None:
        """Drop every resource (moto's own reset endpoint)."""
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass

    def close(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
            self._proc = None

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Fault:
    """Fail matching requests like EC2 does; action "*" matches all, times=None means forever."""

    action: str
    status: int = 503
    code: str = "RequestLimitExceeded"
    message: str = "Request limit exceeded."
    times: int | None = 1

    @classmethod
    def throttle(cls, action: str, times: int | None = 1) -> Fault:
        return cls(action, 503, "RequestLimitExceeded", "Request limit exceeded.", times)

    @classmethod
    def internal_error(cls, action: str, times: int | None = 1) -> Fault:
        return cls(action, 500, "InternalError", "An internal error has occurred.", times)

    def body(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
            f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
        ).encode()


@dataclass(frozen=True)
class ProxiedRequest:
    """One request seen by the proxy; failed_with is the injected status, None if forwarded."""

    action: str
    params: Mapping[str, str]
    failed_with: int | None


class _ProxyHandler(QuietHandler):
    def _handle(self) -> None:
        proxy = cast(FaultProxy, cast(OwnedHTTPServer, self.server).owner)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        fault = proxy._admit(params.get("Action", ""), params)
        if fault is not None:
            self.send(fault.status, fault.body(), [("Content-Type", "text/xml;charset=UTF-8")])
            return
        up = urllib.parse.urlsplit(proxy.upstream)
        conn = http.client.HTTPConnection(up.hostname or LOCALHOST, up.port or 80, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(self.command, self.path, body or None, headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as err:  # upstream down: answer like a gateway, do not drop the client
            self.send(502, f"upstream {proxy.upstream}: {err}".encode())
            return
        finally:
            conn.close()
        keep = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
        self.send(resp.status, data, keep)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class FaultProxy(ServedStub):
    """Threaded reverse proxy in front of `upstream` that injects Faults and records requests."""

    def __init__(self, upstream: str, faults: Sequence[Fault] = ()) -> None:
        self.upstream = upstream
        self.url = ""
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._left: list[int | None] = []
        self._requests: list[ProxiedRequest] = []
        self._server: OwnedHTTPServer | None = None
        self.set_faults(faults)

    def set_faults(self, faults: Sequence[Fault]) -> None:
        """Replace the rules; for each request the first rule with uses left applies."""
        with self._lock:
            self._faults = list(faults)
            self._left = [f.times for f in faults]

    def clear(self) -> None:
        """Forget recorded requests (the rules stay)."""
        with self._lock:
            self._requests.clear()

    def _admit(self, action: str, params: Mapping[str, str]) -> Fault | None:
        with self._lock:
            chosen: Fault | None = None
            for i, fault in enumerate(self._faults):
                left = self._left[i]
                if fault.action in ("*", action) and (left is None or left > 0):
                    self._left[i] = None if left is None else left - 1
                    chosen = fault
                    break
            status = chosen.status if chosen else None
            self._requests.append(ProxiedRequest(action, dict(params), status))
            return chosen

    @property
    def requests(self) -> tuple[ProxiedRequest, ...]:
        with self._lock:
            return tuple(self._requests)

    def calls(self, action: str) -> tuple[ProxiedRequest, ...]:
        return tuple(r for r in self.requests if r.action == action)

    def counts(self) -> Counter[str]:
        """Requests per EC2 Action, failed ones included."""
        return Counter(r.action for r in self.requests)

    def _new_server(self) -> OwnedHTTPServer:
        return OwnedHTTPServer(_ProxyHandler, self)


@dataclass(frozen=True)
class LabEni:
    """An LB's primary ENI: primary_ip is management only, slots[i] is the slot for EIP i."""

    eni_id: str
    mac: str
    primary_ip: str
    slots: tuple[str, ...]


@dataclass(frozen=True)
class LabEip:
    allocation_id: str
    public_ip: str


@dataclass(frozen=True)
class Ec2Lab:
    region: str
    vpc_id: str
    subnet_id: str
    subnet_cidr: str
    enis: tuple[LabEni, ...]
    eips: tuple[LabEip, ...]


def ec2_client(endpoint_url: str, region: str = "us-east-1") -> Any:
    """A boto3 EC2 client for the local endpoint (boto3 is imported lazily: tests-only dep)."""
    import boto3  # type: ignore[import-untyped, unused-ignore]

    env = aws_env(endpoint_url, region)
    return boto3.client(
        "ec2",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def create_lab(
    endpoint_url: str,
    *,
    region: str = "us-east-1",
    subnet_cidr: str = "10.20.1.0/24",
    lbs: int = 2,
    eips: int = 2,
) -> Ec2Lab:
    """A VPC, one subnet, per LB an ENI (primary .10+k, slot for EIP i .21+10k+i), N EIPs."""
    ec2 = ec2_client(endpoint_url, region)
    net = ipaddress.ip_network(subnet_cidr)
    vpc_id = str(ec2.create_vpc(CidrBlock=str(net.supernet(new_prefix=16)))["Vpc"]["VpcId"])
    subnet_id = str(ec2.create_subnet(VpcId=vpc_id, CidrBlock=subnet_cidr)["Subnet"]["SubnetId"])
    enis = []
    for k in range(lbs):
        primary = str(net.network_address + 10 + k)
        slots = tuple(str(net.network_address + 21 + 10 * k + i) for i in range(eips))
        eni = ec2.create_network_interface(SubnetId=subnet_id, PrivateIpAddress=primary)
        eni_id = str(eni["NetworkInterface"]["NetworkInterfaceId"])
        if slots:
            ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=slots)
        mac = str(eni["NetworkInterface"]["MacAddress"]).lower()
        enis.append(LabEni(eni_id, mac, primary, slots))
    allocations = []
    for _ in range(eips):
        got = ec2.allocate_address(Domain="vpc")
        allocations.append(LabEip(str(got["AllocationId"]), str(got["PublicIp"])))
    return Ec2Lab(region, vpc_id, subnet_id, subnet_cidr, tuple(enis), tuple(allocations))


def association(
    endpoint_url: str, allocation_id: str, region: str = "us-east-1"
) -> tuple[str | None, str | None]:
    """(NetworkInterfaceId, PrivateIpAddress) of an EIP as DescribeAddresses reports it."""
    ec2 = ec2_client(endpoint_url, region)
    addr = ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"][0]
    eni, ip = addr.get("NetworkInterfaceId"), addr.get("PrivateIpAddress")
    return (str(eni) if eni else None, str(ip) if ip else None)
