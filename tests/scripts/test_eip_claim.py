"""hacompile-eip-claim against a moto EC2 behind a fault-injecting proxy and an IMDSv2 stub."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import jinja2
import pytest
from scriptlab import INSTANCE, ClaimRig

from hacompile.standins.ec2fixture import association
from hacompile.standins.faultproxy import Fault
from hacompile.standins.moto import ec2_client

EX_USAGE, EX_GAVE_UP, EX_REFUSED, EX_CONFIG = 64, 75, 77, 78


def _moto_url(rig: ClaimRig) -> str:
    return rig.proxy.upstream


def test_moves_eip_from_peer_to_our_slot_then_second_run_is_a_no_op(claim: ClaimRig) -> None:
    eip, ours, peer = claim.lab.eips[0], claim.lab.enis[0], claim.lab.enis[1]
    ec2_client(_moto_url(claim)).associate_address(
        AllocationId=eip.allocation_id,
        NetworkInterfaceId=peer.eni_id,
        PrivateIpAddress=peer.slots[0],
    )

    result = claim.run()

    assert result.rc == 0, result.stderr
    assert association(_moto_url(claim), eip.allocation_id)[0] == ours.eni_id
    # moto cannot report the private IP, so check exactly what was sent to EC2.
    (call,) = claim.proxy.calls("AssociateAddress")
    assert dict(call.params) | {"Version": ""} == {
        "Action": "AssociateAddress",
        "Version": "",
        "AllocationId": eip.allocation_id,
        "NetworkInterfaceId": ours.eni_id,
        "PrivateIpAddress": ours.slots[0],
        "AllowReassociation": "true",
    }
    assert "IMDS confirms" in result.stderr
    assert any("verified" in m for m in result.log), result.log
    assert ("PUT", "/latest/api/token") in claim.imds.requests

    claim.proxy.clear()
    again = claim.run()

    assert again.rc == 0, again.stderr
    assert claim.proxy.counts() == {"DescribeAddresses": 1}  # a second run writes nothing
    assert "nothing to do" in again.stderr


def test_concurrent_claims_for_one_instance_are_serialised(claim: ClaimRig) -> None:
    """notify_master and notify_master_rx_lower_pri can fire together: one write, not two."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: claim.run(), range(2)))

    assert [r.rc for r in results] == [0, 0], [r.stderr for r in results]
    assert claim.proxy.counts()["AssociateAddress"] == 1
    assert sum("nothing to do" in r.stderr for r in results) == 1


def test_retries_after_internal_error_and_throttling(claim: ClaimRig) -> None:
    claim.proxy.set_faults(
        [Fault.internal_error("AssociateAddress"), Fault.throttle("AssociateAddress")]
    )

    result = claim.run()

    assert result.rc == 0, result.stderr
    calls = claim.proxy.calls("AssociateAddress")
    assert [c.failed_with for c in calls] == [500, 503, None]
    assert "InternalError" in result.stderr
    assert "RequestLimitExceeded" in result.stderr
    assert association(_moto_url(claim), claim.lab.eips[0].allocation_id)[0] == (
        claim.lab.enis[0].eni_id
    )


def test_gives_up_within_budget_when_every_call_fails(claim: ClaimRig) -> None:
    # 12 s: each attempt is an AWS CLI start (1-2 s idle, several seconds on a loaded
    # machine), and the test needs at least two within the budget
    budget = 12
    claim.write_config(ATTEMPTS="20", BUDGET_SECONDS=str(budget))
    claim.proxy.set_faults([Fault.throttle("*", times=None)])

    result = claim.run()

    assert result.rc == EX_GAVE_UP, result.stderr
    assert result.elapsed < budget + 3
    assert claim.proxy.counts()["AssociateAddress"] >= 2  # it did retry
    for text in (result.stderr, "\n".join(result.log)):
        assert "giving up" in text
        assert "RequestLimitExceeded" in text
    assert association(_moto_url(claim), claim.lab.eips[0].allocation_id) == (None, None)


def test_strict_private_ip_check_does_not_trust_moto(claim: ClaimRig) -> None:
    """Documents the moto caveat: by default a wrong private IP is never accepted."""
    claim.write_config(ATTEMPTS="1", BUDGET_SECONDS="8")

    result = claim.run(env={"HACOMPILE_EIP_PRIVATE_IP_CHECK": "strict"})

    assert result.rc == EX_GAVE_UP, result.stderr
    assert "association not visible" in result.stderr
    assert claim.lab.enis[0].primary_ip in result.stderr


def test_refuses_eni_that_imds_says_is_not_ours(claim: ClaimRig) -> None:
    claim.write_config(ENI_ID=claim.lab.enis[1].eni_id, PRIVATE_IP=claim.lab.enis[1].slots[0])

    result = claim.run()

    assert result.rc == EX_REFUSED, result.stderr
    assert "not attached to this instance" in result.stderr
    assert claim.proxy.counts()["AssociateAddress"] == 0


def test_continues_with_warning_when_imds_is_unreachable(claim: ClaimRig) -> None:
    result = claim.run(env={"HACOMPILE_IMDS_URL": "http://127.0.0.1:9"})

    assert result.rc == 0, result.stderr
    assert "IMDS unreachable" in result.stderr
    assert claim.proxy.counts()["AssociateAddress"] == 1


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong-owner", "owned by uid"),
        ("group-writable", "group/world-writable"),
        ("world-writable", "group/world-writable"),
        ("dir-world-writable", "group/world-writable"),
        ("symlink", "symlink"),
        ("missing", "does not exist"),
        ("command-substitution", "not KEY='value'"),
        ("unknown-key", "not KEY='value'"),
        ("bad-value", "is invalid"),
    ],
)
def test_refuses_untrusted_or_bad_env_file(claim: ClaimRig, case: str, reason: str) -> None:
    env: dict[str, str] = {}
    target = claim.env_file
    if case == "wrong-owner":
        env["HACOMPILE_EIP_TRUST_UID"] = str(os.getuid() + 1)
    elif case == "group-writable":
        target.chmod(0o664)
    elif case == "world-writable":
        target.chmod(0o646)
    elif case == "dir-world-writable":
        claim.eip_dir.chmod(0o777)
    elif case == "symlink":
        real = claim.eip_dir / "real.env"
        target.rename(real)
        target.symlink_to(real)
    elif case == "missing":
        target.unlink()
    elif case == "command-substitution":
        target.write_text(target.read_text() + "REGION=$(touch /tmp/pwned)\n")
    elif case == "unknown-key":
        target.write_text(target.read_text() + "PATH='/tmp'\n")
    elif case == "bad-value":
        claim.write_config(PRIVATE_IP="10.20.1.300")

    result = claim.run(env=env)

    assert result.rc == EX_CONFIG, result.stderr
    assert reason in result.stderr
    assert any(reason in m for m in result.log), result.log
    assert claim.proxy.requests == ()


@pytest.mark.parametrize(
    "args",
    [(), ("",), ("Eip1",), ("1eip",), ("eip-1",), ("../eip_1",), ("e" * 32,), (INSTANCE, "x")],
)
def test_refuses_bad_instance_name(claim: ClaimRig, args: tuple[str, ...]) -> None:
    # A logger that fails (as it may without /dev/log) must not change the outcome.
    bin_dir = claim.home / "bin"
    bin_dir.mkdir()
    (bin_dir / "logger").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "logger").chmod(0o755)

    result = claim.run(args, env={"PATH": f"{bin_dir}:{claim.env['PATH']}"})

    assert result.rc == EX_USAGE, result.stderr
    assert "usage" in result.stderr or "invalid instance name" in result.stderr
    assert claim.proxy.requests == ()


def test_longest_valid_instance_name_is_accepted(claim: ClaimRig) -> None:
    result = claim.run(("e" * 31,))  # passes the name check, then finds no env file for it

    assert result.rc == EX_CONFIG, result.stderr
    assert "e" * 31 + ".env does not exist" in result.stderr


def test_env_file_as_ansible_renders_it_is_accepted(claim: ClaimRig) -> None:
    """The interface with the keepalived role: its eip.env.j2 (as hacompile writes it into the
    bundle, with the plan's claim bounds) must pass the script's checks."""
    from hacompile.plan.build import EIP_CLAIM
    from hacompile.render.env import environment

    template = (
        environment()
        .get_template("ansible/roles/keepalived/templates/eip.env.j2.jinja")
        .render(plan=SimpleNamespace(eip_claim=EIP_CLAIM, regions=()))  # a bundle without VIPs
    )
    eni, eip = claim.lab.enis[0], claim.lab.eips[0]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    text = env.from_string(template).render(
        ansible_managed="Ansible managed",
        hacompile_region=claim.lab.region,
        hacompile_eips={INSTANCE: {"allocation_id": eip.allocation_id, "public_ip": eip.public_ip}},
        eni_id=eni.eni_id,
        item={"name": INSTANCE, "slot_ip": eni.slots[0], "master": True},
    )
    claim.env_file.write_text(text, encoding="utf-8")

    result = claim.run()

    assert result.rc == 0, f"{result.stderr}\n--- rendered env file:\n{text}"
    assert claim.proxy.calls("AssociateAddress")[0].params["PrivateIpAddress"] == eni.slots[0]
