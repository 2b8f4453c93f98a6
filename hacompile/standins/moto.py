"""The EC2 (and SSM) API as moto's server on 127.0.0.1, and the AWS environment aimed at it.

Why: the keepalived notify scripts call EC2 through the AWS CLI, which exists only inside AWS.
`hacompile verify`, the script tests and the failover lab therefore run them against
`python -m moto.server` (MotoServer), usually behind a faultproxy.FaultProxy, with the dummy
credentials of `aws_env`. Everything binds to 127.0.0.1 unless a caller says otherwise.

moto 5.2.1 caveat: AssociateAddress ignores PrivateIpAddress and DescribeAddresses reports the
ENI's primary private IP, so assert the private IP that was *sent* (FaultProxy.requests) and run
hacompile-eip-claim with HACOMPILE_EIP_PRIVATE_IP_CHECK=eni-only against moto.
For the private-VIP strategies (STRATEGY='secondary_ip'): AssignPrivateIpAddresses with
AllowReassignment leaves the IP listed on its old ENI as well (real EC2 moves it), accepts a
reassignment without AllowReassignment and an IP outside the subnet, and the
addresses.private-ip-address filter of DescribeNetworkInterfaces matches primary IPs only; so
assert AllowReassignment at the proxy and that the IP is on the new ENI, not that it left the old.
(STRATEGY='route': CreateRoute over an existing route is accepted, where EC2 answers
RouteAlreadyExists.)

moto and boto3 come with the `verify` and `lab` extras; this module imports neither at import
time (moto runs as a child process, boto3 is imported by `ec2_client`).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hacompile.standins.imds import LOCALHOST

__all__ = ["MotoServer", "aws_env", "ec2_client", "free_port"]


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


def ec2_client(endpoint_url: str, region: str = "us-east-1") -> Any:
    """A boto3 EC2 client for the local endpoint (boto3 is imported lazily: an extra's dep)."""
    import boto3

    env = aws_env(endpoint_url, region)
    return boto3.client(
        "ec2",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
