"""The stand-ins themselves: IMDSv2 token rules and the fault proxy's EC2-shaped errors."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Mapping

import pytest

from hacompile.standins.faultproxy import Fault, FaultProxy
from hacompile.standins.imds import ImdsInterface, ImdsStub, imds_metadata
from hacompile.standins.moto import free_port

MAC = "02:00:00:aa:00:01"


def _call(req: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_imds_stub_requires_a_token() -> None:
    md = imds_metadata([ImdsInterface(MAC, "eni-0aaa", ("10.0.0.5", "10.0.0.6"), "10.0.0.0/24")])
    with ImdsStub(md) as imds:
        path = f"{imds.url}/latest/meta-data/network/interfaces/macs/"
        assert _call(urllib.request.Request(path))[0] == 401
        bad = urllib.request.Request(path, headers={"X-aws-ec2-metadata-token": "forged"})
        assert _call(bad)[0] == 401
        no_ttl = urllib.request.Request(f"{imds.url}/latest/api/token", method="PUT")
        assert _call(no_ttl)[0] == 400

        put = urllib.request.Request(
            f"{imds.url}/latest/api/token",
            method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"},
        )
        status, token = _call(put)
        assert status == 200
        auth = {"X-aws-ec2-metadata-token": token}
        assert _call(urllib.request.Request(path, headers=auth)) == (200, f"{MAC}/")
        ips = urllib.request.Request(f"{path}{MAC}/local-ipv4s", headers=auth)
        assert _call(ips) == (200, "10.0.0.5\n10.0.0.6")
        missing = urllib.request.Request(f"{path}{MAC}/nope", headers=auth)
        assert _call(missing)[0] == 404


@pytest.mark.parametrize(
    ("fault", "code"),
    [(Fault.throttle("DescribeAddresses"), 503), (Fault.internal_error("*"), 500)],
)
def test_fault_proxy_fails_first_n_then_forwards(fault: Fault, code: int) -> None:
    with FaultProxy("http://127.0.0.1:9", [fault]) as proxy:
        body = b"Action=DescribeAddresses&Version=2016-11-15"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, text = _call(urllib.request.Request(proxy.url, data=body, headers=headers))
        assert status == code
        assert f"<Code>{fault.code}</Code>" in text
        # The rule is used up: the next request is forwarded (to a closed port here: 502-ish).
        status, _ = _call(urllib.request.Request(proxy.url, data=body, headers=headers))
        assert status != code
        assert proxy.counts()["DescribeAddresses"] == 2
        assert [r.failed_with for r in proxy.requests] == [code, None]


def test_fault_proxy_listens_where_told_and_subclasses_see_each_call() -> None:
    """The lab's cloud host relies on exactly this public surface: host/port, and `admit` as
    the one hook that sees every request before the rules decide it."""
    seen: list[str] = []

    class Watching(FaultProxy):
        def admit(self, action: str, params: Mapping[str, str]) -> Fault | None:
            seen.append(action)
            return super().admit(action, params)

    port = free_port()
    with Watching(
        "http://127.0.0.1:9", [Fault.throttle("AssociateAddress")], host="127.0.0.1", port=port
    ) as proxy:
        assert proxy.url == f"http://127.0.0.1:{port}"
        body = b"Action=AssociateAddress&Version=2016-11-15"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        assert _call(urllib.request.Request(proxy.url, data=body, headers=headers))[0] == 503
    assert seen == ["AssociateAddress"]
    assert [r.failed_with for r in proxy.requests] == [503]


def test_fault_proxy_latency_delays_then_forwards() -> None:
    """The busy-slow-api scenario: every call answers 1-2 s late but is not failed."""
    with FaultProxy("http://127.0.0.1:9", [Fault.latency("*", 0.4, 0.2)]) as proxy:
        body = b"Action=DescribeAddresses&Version=2016-11-15"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        started = time.monotonic()
        status, _ = _call(urllib.request.Request(proxy.url, data=body, headers=headers))
        took = time.monotonic() - started
        assert status == 502  # forwarded (to a closed port), not answered with an EC2 error
        assert 0.4 <= took < 2.0
        assert [r.failed_with for r in proxy.requests] == [None]
