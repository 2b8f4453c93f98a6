"""hacompile-secondary-ips inside a throwaway network namespace with an IMDSv2 stub in it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from scriptlab import SECONDARY_IPS, Netns

from hacompile.standins.imds import ImdsInterface, imds_metadata

pytestmark = pytest.mark.root  # every test runs in a network namespace

MAC_A, MAC_B, MAC_GONE = "02:00:00:aa:00:01", "02:00:00:aa:00:02", "02:00:00:aa:00:09"


def _two_nics(ns: Netns) -> None:
    """hcv0/hcv1, a veth pair inside the namespace, stand in for two ENIs; DHCP gave hcv0 its
    primary address."""
    ns.ip("link", "add", "hcv0", "address", MAC_A, "type", "veth", "peer", "name", "hcv1")
    ns.ip("link", "set", "hcv1", "address", MAC_B)
    ns.ip("link", "set", "hcv0", "up")
    ns.ip("link", "set", "hcv1", "up")
    ns.ip("addr", "add", "10.20.1.10/24", "dev", "hcv0")


def _metadata(*extra: ImdsInterface) -> dict[str, str]:
    return imds_metadata(
        [
            ImdsInterface(
                MAC_A, "eni-0aaa", ("10.20.1.10", "10.20.1.21", "10.20.1.22"), "10.20.1.0/24"
            ),
            ImdsInterface(MAC_B, "eni-0bbb", ("10.20.2.10", "10.20.2.21"), "10.20.2.0/26", 1),
            *extra,
        ]
    )


def _env(url: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HACOMPILE_IMDS_URL": url,
        "HACOMPILE_IMDS_WAIT_SECONDS": "5",
        **extra,
    }


def test_adds_missing_secondaries_with_prefix_from_subnet(netns: Netns, tmp_path: Path) -> None:
    _two_nics(netns)
    url = netns.start_imds(_metadata(), tmp_path)

    first = netns.run(str(SECONDARY_IPS), env=_env(url))

    assert first.returncode == 0, first.stderr
    assert netns.ipv4_addrs("hcv0") == {"10.20.1.10/24", "10.20.1.21/24", "10.20.1.22/24"}
    # The /26 comes from subnet-ipv4-cidr-block; the ENI's primary (.10) is left to DHCP.
    assert netns.ipv4_addrs("hcv1") == {"10.20.2.21/26"}
    assert "added 10.20.2.21/26" in first.stderr

    before = netns.ip("-o", "-4", "addr", "show")
    second = netns.run(str(SECONDARY_IPS), env=_env(url))

    assert second.returncode == 0, second.stderr
    assert netns.ip("-o", "-4", "addr", "show") == before
    assert "added" not in second.stderr
    assert second.stderr.count("already present") == 3


def test_reports_a_mac_without_local_interface(netns: Netns, tmp_path: Path) -> None:
    _two_nics(netns)
    gone = ImdsInterface(MAC_GONE, "eni-0ccc", ("10.20.3.10", "10.20.3.21"), "10.20.3.0/24", 2)
    url = netns.start_imds(_metadata(gone), tmp_path)

    result = netns.run(str(SECONDARY_IPS), env=_env(url))

    assert result.returncode == 1
    assert f"no local interface has MAC {MAC_GONE}" in result.stderr
    assert "10.20.2.21/26" in netns.ipv4_addrs("hcv1")  # the others were still handled


def test_gives_up_after_bounded_wait_for_imds(netns: Netns) -> None:
    _two_nics(netns)
    start = time.monotonic()

    result = netns.run(
        str(SECONDARY_IPS), env=_env("http://127.0.0.1:9", HACOMPILE_IMDS_WAIT_SECONDS="2")
    )

    assert result.returncode == 69, result.stderr
    assert time.monotonic() - start < 10
    assert "gave no token" in result.stderr
    assert netns.ipv4_addrs("hcv0") == {"10.20.1.10/24"}


def test_leaves_secondary_vips_to_keepalived(netns: Netns, tmp_path: Path) -> None:
    """IMDS lists a secondary-IP VIP on the interface EC2 last gave it; only Keepalived may add
    it (on MASTER) and remove it, so the helper skips the addresses of the VIP file."""
    _two_nics(netns)
    url = netns.start_imds(_metadata(), tmp_path)
    vips = tmp_path / "vip-addresses"
    vips.write_text("10.20.1.22\n10.20.9.9\n")

    result = netns.run(str(SECONDARY_IPS), env=_env(url, HACOMPILE_VIP_ADDRESSES=str(vips)))

    assert result.returncode == 0, result.stderr
    assert netns.ipv4_addrs("hcv0") == {"10.20.1.10/24", "10.20.1.21/24"}
    assert "10.20.1.22 is a VIP: left to Keepalived" in result.stderr
    # a prefix of a VIP is another address: whole lines only
    vips.write_text("10.20.1.2\n")
    again = netns.run(str(SECONDARY_IPS), env=_env(url, HACOMPILE_VIP_ADDRESSES=str(vips)))
    assert again.returncode == 0, again.stderr
    assert "10.20.1.22/24" in netns.ipv4_addrs("hcv0")
