"""hacompile-eip-claim's private-VIP strategies (STRATEGY='route' and 'secondary_ip') with the
real AWS CLI against moto behind the fault proxy, and the IMDSv2 stub (issue 15).

route: the VIP is an overlay /32 outside the VPC; the claim points the VIP/32 route of every
listed route table at this LB's ENI. secondary_ip: the VIP is a private IP in the subnet; the
claim reassigns it to this LB's ENI. The rig's IMDS says the machine holds ENI 0 ("ours"); ENI 1
is the peer LB's.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from scriptlab import EIP_CLAIM, ClaimRig, write_env_file

from hacompile.standins.faultproxy import Fault
from hacompile.standins.moto import ec2_client

EX_GAVE_UP, EX_REJECTED, EX_REFUSED, EX_CONFIG = 75, 76, 77, 78
VIP = "100.64.10.10"
DEST = f"{VIP}/32"
SUBNET_VIP = "10.20.1.50"
NOTIFY = EIP_CLAIM.parent / "hacompile-vrrp-notify"


def _ec2(rig: ClaimRig) -> Any:
    return ec2_client(rig.proxy.upstream, rig.lab.region)  # straight to moto: not counted


def _route_tables(rig: ClaimRig, targets: Sequence[str | None]) -> list[str]:
    """One route table per entry, its VIP/32 route to that ENI (None: no VIP route)."""
    ec2 = _ec2(rig)
    tables = []
    for eni in targets:
        rtb = str(ec2.create_route_table(VpcId=rig.lab.vpc_id)["RouteTable"]["RouteTableId"])
        if eni is not None:
            ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=DEST, NetworkInterfaceId=eni)
        tables.append(rtb)
    return tables


def _targets(rig: ClaimRig, tables: Sequence[str]) -> list[str | None]:
    """Each table's VIP/32 route target ENI, as moto reports it (None: no such route)."""
    got = _ec2(rig).describe_route_tables(RouteTableIds=list(tables))["RouteTables"]
    by_id = {t["RouteTableId"]: t["Routes"] for t in got}
    found: list[str | None] = []
    for rtb in tables:
        routes = [r for r in by_id[rtb] if r.get("DestinationCidrBlock") == DEST]
        found.append(str(routes[0].get("NetworkInterfaceId")) if routes else None)
    return found


def _holders(rig: ClaimRig, ip: str) -> list[str]:
    """The lab's ENIs that list `ip` (moto's address filter sees primary IPs only)."""
    enis = _ec2(rig).describe_network_interfaces(
        NetworkInterfaceIds=[e.eni_id for e in rig.lab.enis]
    )["NetworkInterfaces"]
    return sorted(
        str(e["NetworkInterfaceId"])
        for e in enis
        if ip in {p["PrivateIpAddress"] for p in e["PrivateIpAddresses"]}
    )


def _route_config(rig: ClaimRig, tables: Sequence[str], **extra: str) -> None:
    values = {
        "STRATEGY": "route",
        "REGION": rig.lab.region,
        "ENI_ID": rig.lab.enis[0].eni_id,
        "VIP": VIP,
        "ROUTE_TABLES": " ".join(tables),
        "OWNER": "yes",
    }
    write_env_file(rig.env_file, {k: v for k, v in {**values, **extra}.items() if v != ""})


def _secondary_config(rig: ClaimRig, **extra: str) -> None:
    values = {
        "STRATEGY": "secondary_ip",
        "REGION": rig.lab.region,
        "ENI_ID": rig.lab.enis[0].eni_id,
        "PRIVATE_IP": SUBNET_VIP,
        "OWNER": "no",
    }
    write_env_file(rig.env_file, {k: v for k, v in {**values, **extra}.items() if v != ""})


def _give_peer_the_subnet_vip(rig: ClaimRig) -> None:
    _ec2(rig).assign_private_ip_addresses(
        NetworkInterfaceId=rig.lab.enis[1].eni_id, PrivateIpAddresses=[SUBNET_VIP]
    )


# ---- route ---------------------------------------------------------------------------------------
def test_route_moves_vip_in_every_table_then_second_run_is_a_no_op(claim: ClaimRig) -> None:
    ours, peer = claim.lab.enis[0].eni_id, claim.lab.enis[1].eni_id
    tables = _route_tables(claim, [peer, None, peer])
    _route_config(claim, tables)

    result = claim.run()

    assert result.rc == 0, result.stderr
    assert _targets(claim, tables) == [ours, ours, ours]
    replaced = [dict(c.params) for c in claim.proxy.calls("ReplaceRoute")]
    created = [dict(c.params) for c in claim.proxy.calls("CreateRoute")]
    common = {"DestinationCidrBlock": DEST, "NetworkInterfaceId": ours}
    assert [p["RouteTableId"] for p in replaced] == [tables[0], tables[2]]
    assert [p["RouteTableId"] for p in created] == [tables[1]]
    for params in replaced + created:
        assert common.items() <= params.items(), params
    assert claim.proxy.counts()["DescribeRouteTables"] == 2  # observe, verify
    assert "IMDS confirms" in result.stderr
    assert "strategy route" in result.stderr
    assert f"{tables[1]} {DEST} -> {ours} (create-route, was none)" in result.stderr
    assert f"{tables[0]} {DEST} -> {ours} (replace-route, was {peer})" in result.stderr
    assert any("verified: route" in m for m in result.log), result.log
    assert f"{VIP} is not on any local interface" in result.stderr  # keepalived adds it

    claim.proxy.clear()
    again = claim.run()

    assert again.rc == 0, again.stderr
    assert claim.proxy.counts() == {"DescribeRouteTables": 1}  # a second run writes nothing
    assert "nothing to do" in again.stderr


def test_concurrent_route_claims_for_one_instance_are_serialised(claim: ClaimRig) -> None:
    peer = claim.lab.enis[1].eni_id
    tables = _route_tables(claim, [peer, peer])
    _route_config(claim, tables)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: claim.run(), range(2)))

    assert [r.rc for r in results] == [0, 0], [r.stderr for r in results]
    assert claim.proxy.counts()["ReplaceRoute"] == 2  # once per table, not twice
    assert sum("nothing to do" in r.stderr for r in results) == 1


def test_route_already_in_place_makes_no_write(claim: ClaimRig) -> None:
    ours = claim.lab.enis[0].eni_id
    tables = _route_tables(claim, [ours, ours])
    _route_config(claim, tables)

    result = claim.run()

    assert result.rc == 0, result.stderr
    assert claim.proxy.counts() == {"DescribeRouteTables": 1}
    assert "nothing to do" in result.stderr


def test_route_retries_through_throttling_and_errors(claim: ClaimRig) -> None:
    ours, peer = claim.lab.enis[0].eni_id, claim.lab.enis[1].eni_id
    tables = _route_tables(claim, [peer, peer])
    _route_config(claim, tables, ATTEMPTS="5", BUDGET_SECONDS="40")
    claim.proxy.set_faults(
        [
            Fault.internal_error("DescribeRouteTables"),
            Fault.throttle("ReplaceRoute", times=3),
        ]
    )

    result = claim.run()

    assert result.rc == 0, result.stderr
    assert _targets(claim, tables) == [ours, ours]
    calls = claim.proxy.calls("ReplaceRoute")
    assert [c.failed_with for c in calls][:3] == [503, 503, 503]
    assert [c.failed_with for c in calls][3:] == [None, None]  # each table written once
    assert "InternalError" in result.stderr
    assert "RequestLimitExceeded" in result.stderr
    assert "verified" in result.stderr


def test_route_one_throttled_table_does_not_hold_up_the_others(claim: ClaimRig) -> None:
    ours, peer = claim.lab.enis[0].eni_id, claim.lab.enis[1].eni_id
    tables = _route_tables(claim, [peer, peer])
    _route_config(claim, tables)
    claim.proxy.set_faults([Fault.throttle("ReplaceRoute")])

    result = claim.run()

    assert result.rc == 0, result.stderr
    calls = claim.proxy.calls("ReplaceRoute")
    assert [(c.params["RouteTableId"], c.failed_with) for c in calls] == [
        (tables[0], 503),
        (tables[1], None),  # written in the same attempt
        (tables[0], None),  # only the table still wrong is written again
    ]
    assert _targets(claim, tables) == [ours, ours]


def test_route_gives_up_within_budget_when_every_call_fails(claim: ClaimRig) -> None:
    budget = 12  # as the EIP test: at least two AWS CLI starts on a loaded machine
    peer = claim.lab.enis[1].eni_id
    tables = _route_tables(claim, [peer])
    _route_config(claim, tables, ATTEMPTS="20", BUDGET_SECONDS=str(budget))
    claim.proxy.set_faults([Fault.throttle("*", times=None)])

    result = claim.run()

    assert result.rc == EX_GAVE_UP, result.stderr
    assert result.elapsed < budget + 3
    assert claim.proxy.counts()["ReplaceRoute"] >= 2
    assert any("giving up on route" in m for m in result.log), result.log
    assert _targets(claim, tables) == [peer]


def test_route_unknown_table_is_a_permanent_rejection(claim: ClaimRig) -> None:
    peer = claim.lab.enis[1].eni_id
    tables = _route_tables(claim, [peer])
    _route_config(claim, [*tables, "rtb-0123456789abcdef0"])

    result = claim.run()

    assert result.rc == EX_REJECTED, result.stderr
    assert "InvalidRouteTableID.NotFound" in result.stderr
    assert "rejected replace-route rtb-0123456789abcdef0 permanently" in result.stderr
    assert claim.proxy.counts()["DescribeRouteTables"] == 1  # no retry


def test_route_permanent_api_error_is_not_retried(claim: ClaimRig) -> None:
    tables = _route_tables(claim, [claim.lab.enis[1].eni_id])
    _route_config(claim, tables)
    claim.proxy.set_faults(
        [Fault("ReplaceRoute", 400, "InvalidNetworkInterfaceID.NotFound", "no such ENI")]
    )

    result = claim.run()

    assert result.rc == EX_REJECTED, result.stderr
    assert claim.proxy.counts()["ReplaceRoute"] == 1


@pytest.mark.parametrize("strategy", ["route", "secondary_ip"])
def test_refuses_eni_that_imds_says_is_not_ours(claim: ClaimRig, strategy: str) -> None:
    peer = claim.lab.enis[1].eni_id
    if strategy == "route":
        _route_config(claim, _route_tables(claim, [claim.lab.enis[0].eni_id]), ENI_ID=peer)
    else:
        _secondary_config(claim, ENI_ID=peer)

    result = claim.run()

    assert result.rc == EX_REFUSED, result.stderr
    assert "not attached to this instance" in result.stderr
    assert claim.proxy.requests == ()


_RTB = "rtb-0123456789abcdef0"
_ELEVEN = " ".join(f"rtb-{i:017x}" for i in range(11))  # at most ten tables


@pytest.mark.parametrize(
    ("strategy", "extra", "reason"),
    [
        ("route", {"STRATEGY": "vip"}, "STRATEGY 'vip' is invalid"),
        ("route", {"ROUTE_TABLES": "rtb-123"}, "ROUTE_TABLES 'rtb-123' is invalid"),
        ("route", {"ROUTE_TABLES": "rtb-0123456789ABCDEF0"}, "is invalid"),
        ("route", {"ROUTE_TABLES": f"{_RTB}  rtb-0123456789abcdef1"}, "is invalid"),
        ("route", {"ROUTE_TABLES": f"{_RTB},rtb-0123456789abcdef1"}, "is invalid"),
        ("route", {"ROUTE_TABLES": _ELEVEN}, "is invalid"),
        ("route", {"ROUTE_TABLES": f"{_RTB} {_RTB}"}, f"lists {_RTB} twice"),
        ("route", {"ROUTE_TABLES": ""}, "ROUTE_TABLES '' is invalid"),
        ("route", {"VIP": "100.64.10.10/32"}, "VIP '100.64.10.10/32' is invalid"),
        ("route", {"VIP": "100.64.10.300"}, "is invalid"),
        ("route", {"VIP": ""}, "VIP '' is invalid"),
        ("route", {"PRIVATE_IP": "10.20.1.50"}, "PRIVATE_IP is not used by STRATEGY 'route'"),
        ("route", {"ALLOCATION_ID": "eipalloc-0123456789abcdef0"}, "not used by STRATEGY"),
        ("secondary_ip", {"PRIVATE_IP": ""}, "PRIVATE_IP '' is invalid"),
        ("secondary_ip", {"PRIVATE_IP": "10.20.1.256"}, "is invalid"),
        ("secondary_ip", {"VIP": VIP}, "VIP is not used by STRATEGY 'secondary_ip'"),
        ("secondary_ip", {"ROUTE_TABLES": _RTB}, "ROUTE_TABLES is not used by STRATEGY"),
        ("secondary_ip", {"ENI_ID": "eni-xyz"}, "ENI_ID 'eni-xyz' is invalid"),
        ("secondary_ip", {"ATTEMPTS": "0"}, "ATTEMPTS '0' must be 1..99"),
    ],
)
def test_refuses_bad_config(
    claim: ClaimRig, strategy: str, extra: dict[str, str], reason: str
) -> None:
    if strategy == "route":
        _route_config(claim, [_RTB], **extra)
    else:
        _secondary_config(claim, **extra)

    result = claim.run()

    assert result.rc == EX_CONFIG, result.stderr
    assert reason in result.stderr
    assert any(reason in m for m in result.log), result.log
    assert claim.proxy.requests == ()


def test_eip_config_rejects_private_vip_keys(claim: ClaimRig) -> None:
    claim.write_config(VIP=VIP)

    result = claim.run()

    assert result.rc == EX_CONFIG, result.stderr
    assert "VIP is not used by STRATEGY 'eip'" in result.stderr


# ---- secondary_ip --------------------------------------------------------------------------------
def test_secondary_ip_is_reassigned_from_the_peer_then_second_run_is_a_no_op(
    claim: ClaimRig,
) -> None:
    ours, peer = claim.lab.enis[0].eni_id, claim.lab.enis[1].eni_id
    _give_peer_the_subnet_vip(claim)
    _secondary_config(claim)

    result = claim.run()

    assert result.rc == 0, result.stderr
    (call,) = claim.proxy.calls("AssignPrivateIpAddresses")
    assert dict(call.params) | {"Version": ""} == {
        "Action": "AssignPrivateIpAddresses",
        "Version": "",
        "NetworkInterfaceId": ours,
        "PrivateIpAddress.1": SUBNET_VIP,
        "AllowReassignment": "true",
    }
    # moto 5.2.1 caveat: the IP stays listed on the peer too (real EC2 moves it).
    assert _holders(claim, SUBNET_VIP) == sorted([ours, peer])
    assert "strategy secondary_ip" in result.stderr
    assert f"verified: secondary IP {SUBNET_VIP} is on {ours}" in result.stderr
    assert f"{SUBNET_VIP} is not on any local interface" in result.stderr

    claim.proxy.clear()
    again = claim.run()

    assert again.rc == 0, again.stderr
    assert claim.proxy.counts() == {"DescribeNetworkInterfaces": 1}
    assert "nothing to do" in again.stderr


def test_secondary_ip_retries_through_throttling(claim: ClaimRig) -> None:
    _give_peer_the_subnet_vip(claim)
    _secondary_config(claim)
    claim.proxy.set_faults(
        [
            Fault.throttle("DescribeNetworkInterfaces"),
            Fault.internal_error("AssignPrivateIpAddresses"),
        ]
    )

    result = claim.run()

    assert result.rc == 0, result.stderr
    calls = claim.proxy.calls("AssignPrivateIpAddresses")
    assert [c.failed_with for c in calls] == [500, None]
    assert claim.lab.enis[0].eni_id in _holders(claim, SUBNET_VIP)


def test_secondary_ip_unknown_eni_is_a_permanent_rejection(claim: ClaimRig) -> None:
    _secondary_config(claim, ENI_ID="eni-0123456789abcdef0")

    result = claim.run(env={"HACOMPILE_EIP_IMDS_CHECK": "off"})

    assert result.rc == EX_REJECTED, result.stderr
    assert "InvalidNetworkInterfaceID" in result.stderr
    assert claim.proxy.counts()["AssignPrivateIpAddresses"] == 1


# ---- leaving MASTER ------------------------------------------------------------------------------
def _wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.1)


@pytest.mark.parametrize("strategy", ["route", "secondary_ip"])
def test_leaving_master_stops_a_retrying_claim(
    claim: ClaimRig, tmp_path: Path, strategy: str
) -> None:
    """hacompile-vrrp-notify BACKUP finds the claim by name and INSTANCE and stops it: nothing
    lands after this node gave up MASTER."""
    instance = f"vip{os.getpid()}{strategy[0]}"  # unique: no other claim here matches
    claim_env = claim.eip_dir / f"{instance}.env"
    peer = claim.lab.enis[1].eni_id
    tables: list[str] = []
    if strategy == "route":
        tables = _route_tables(claim, [peer])
        _route_config(claim, tables, ATTEMPTS="99", BUDGET_SECONDS="90")
        write_action = "ReplaceRoute"
    else:
        _give_peer_the_subnet_vip(claim)
        _secondary_config(claim, ATTEMPTS="99", BUDGET_SECONDS="90")
        write_action = "AssignPrivateIpAddresses"
    claim.env_file.rename(claim_env)
    claim.proxy.set_faults([Fault.throttle(write_action, times=None)])
    proc = subprocess.Popen(
        [str(EIP_CLAIM), instance],
        env=claim.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: len(claim.proxy.calls(write_action)) >= 1, 60)
        notify_env = {"HACOMPILE_RUN_DIR": str(claim.run_dir), "HACOMPILE_EIP_STDERR": "1"}
        done = subprocess.run(
            [str(NOTIFY), instance, "BACKUP"],
            env=notify_env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "stopped in-flight claim" in done.stderr
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == EX_GAVE_UP, stderr
    claim.proxy.set_faults([])
    time.sleep(1.5)  # a straggling write would land now
    assert all(c.failed_with == 503 for c in claim.proxy.calls(write_action))
    if strategy == "route":
        assert _targets(claim, tables) == [peer]
    else:
        assert _holders(claim, SUBNET_VIP) == [peer]
    assert (claim.run_dir / "state" / instance).read_text() == "BACKUP\n"
