"""hacompile-eip-claim's hot path: the write is one SigV4-signed curl request, not an AWS CLI run.

What must hold: the notify hook's claim sends its write before any describe; the request is
signed exactly as botocore (the AWS SDK's reference signer) signs it; the credentials come from
the environment or the instance role (IMDSv2), are cached only as a 0600 file of this uid and
never appear on a command line; a refusal of the credentials or `HACOMPILE_EIP_SIGNED=off`
falls back to the AWS CLI, which then makes the write.
"""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from scriptlab import ClaimRig
from test_vip_claim import (
    SUBNET_VIP,
    _give_peer_the_subnet_vip,
    _holders,
    _route_config,
    _route_tables,
    _secondary_config,
    _targets,
)

from hacompile.standins.ec2fixture import association
from hacompile.standins.faultproxy import Fault, ProxiedRequest
from hacompile.standins.moto import ec2_client

ROLE = "hacompile-lb"
KEY_ID = "ASIAHACOMPILETEST01"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYhacompile0"
SESSION = "IQoJb3JpZ2luX2VjEHacompileSessionToken+/="


def _client(request: ProxiedRequest) -> str:
    return request.headers.get("user-agent", "").split("/", 1)[0]


def _role_credentials(rig: ClaimRig, expires_in: datetime.timedelta) -> dict[str, str]:
    """Serve an instance role from the IMDS stub (and let the CLI find it there too)."""
    expiration = datetime.datetime.now(datetime.UTC) + expires_in
    rig.imds.metadata["iam/security-credentials/"] = ROLE
    rig.imds.metadata[f"iam/security-credentials/{ROLE}"] = json.dumps(
        {
            "Code": "Success",
            "Type": "AWS-HMAC",
            "AccessKeyId": KEY_ID,
            "SecretAccessKey": SECRET,
            "Token": SESSION,
            "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        indent=2,  # real IMDS pretty-prints; the lab's stand-in does not: the script reads both
    )
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED"):
        rig.env.pop(key, None)
    rig.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = rig.imds.url + "/"
    return rig.env


def _expected_signature(request: ProxiedRequest, url: str, region: str) -> str:
    """Recompute the request's SigV4 signature with botocore from what went over the wire."""
    authorization = request.headers["authorization"]
    signed = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    assert {"host", "x-amz-date"} <= set(signed), authorization
    headers = {name: request.headers[name] for name in signed}
    aws = AWSRequest(method="POST", url=url + "/", data=request.body, headers=headers)
    aws.context["timestamp"] = request.headers["x-amz-date"]
    session = request.headers.get("x-amz-security-token")
    auth = SigV4Auth(Credentials(KEY_ID, SECRET, session), "ec2", region)
    canonical = auth.canonical_request(aws)
    return str(auth.signature(auth.string_to_sign(aws, canonical), aws))


def test_hot_path_writes_first_with_one_signed_request_botocore_accepts(claim: ClaimRig) -> None:
    env = _role_credentials(claim, datetime.timedelta(hours=6))
    eip, ours = claim.lab.eips[0], claim.lab.enis[0]

    result = claim.run(env={**env, "HACOMPILE_EIP_HOT": "1"})

    assert result.rc == 0, result.stderr
    assert association(claim.proxy.upstream, eip.allocation_id)[0] == ours.eni_id
    first, *rest = claim.proxy.requests
    assert first.action == "AssociateAddress", [r.action for r in claim.proxy.requests]
    assert _client(first) == "curl"
    assert {r.action for r in rest} == {"DescribeAddresses"}  # verification, after the write
    assert {_client(r) for r in rest} == {"aws-cli"}
    assert first.headers["x-amz-security-token"] == SESSION
    authorization = first.headers["authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
    assert f"/{claim.lab.region}/ec2/aws4_request" in authorization
    signature = authorization.rsplit("Signature=", 1)[1]
    assert signature == _expected_signature(first, claim.proxy.url, claim.lab.region)
    assert "hot path: writing first" in result.stderr
    assert f"instance role {ROLE} (IMDS)" in result.stderr


def test_role_credentials_are_cached_privately_and_refetched_near_expiry(
    claim: ClaimRig,
) -> None:
    env = _role_credentials(claim, datetime.timedelta(hours=6))
    cache = claim.run_dir / f"ec2-credentials.{os.getuid()}"

    first = claim.run(env={**env, "HACOMPILE_EIP_HOT": "1"})
    assert first.rc == 0, first.stderr
    assert f"instance role {ROLE} (IMDS)" in first.stderr
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600 and cache.stat().st_uid == os.getuid()
    assert json.loads(cache.read_text())["AccessKeyId"] == KEY_ID

    again = claim.run(env={**env, "HACOMPILE_EIP_HOT": "1"})
    assert again.rc == 0, again.stderr
    assert "the instance role (cached)" in again.stderr

    # Cached credentials that expire within 5 minutes are not used: IMDS again, cache renewed.
    stale = json.loads(cache.read_text())
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=4)
    stale.update(AccessKeyId="ASIASTALEKEY0000001", Expiration=soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    cache.write_text(json.dumps(stale))
    claim.proxy.clear()
    third = claim.run(env={**env, "HACOMPILE_EIP_HOT": "1"})
    assert third.rc == 0, third.stderr
    assert f"instance role {ROLE} (IMDS)" in third.stderr
    (write,) = claim.proxy.calls("AssociateAddress")
    assert f"Credential={KEY_ID}/" in write.headers["authorization"]
    assert json.loads(cache.read_text())["AccessKeyId"] == KEY_ID

    # A cache another user could have written (mode 0644) is ignored, not trusted.
    cache.write_text(json.dumps(stale | {"Expiration": "2099-01-01T00:00:00Z"}))
    cache.chmod(0o644)
    claim.proxy.clear()
    fourth = claim.run(env={**env, "HACOMPILE_EIP_HOT": "1"})
    assert fourth.rc == 0, fourth.stderr
    (write,) = claim.proxy.calls("AssociateAddress")
    assert f"Credential={KEY_ID}/" in write.headers["authorization"]


def test_secret_never_reaches_a_command_line(claim: ClaimRig, tmp_path: Path) -> None:
    """Every curl the script runs is logged with its argv by a wrapper ahead in PATH."""
    env = _role_credentials(claim, datetime.timedelta(hours=6))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    argv_log = tmp_path / "curl-argv"
    real = next(Path(d) / "curl" for d in env["PATH"].split(":") if (Path(d) / "curl").is_file())
    wrapper = bin_dir / "curl"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >>{argv_log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)

    result = claim.run(env={**env, "PATH": f"{bin_dir}:{env['PATH']}", "HACOMPILE_EIP_HOT": "1"})

    assert result.rc == 0, result.stderr
    assert _client(claim.proxy.calls("AssociateAddress")[0]) == "curl"
    logged = argv_log.read_text()
    assert "--aws-sigv4" in logged
    assert SECRET not in logged and SESSION not in logged
    assert SECRET not in result.stderr and SECRET not in "".join(result.log)


def test_refused_credentials_fall_back_to_the_cli_within_the_attempt(claim: ClaimRig) -> None:
    claim.proxy.set_faults(
        [Fault("AssociateAddress", 401, "AuthFailure", "AWS was not able to validate.", 1)]
    )

    result = claim.run(env={"HACOMPILE_EIP_HOT": "1"})

    assert result.rc == 0, result.stderr
    calls = claim.proxy.calls("AssociateAddress")
    assert [(_client(c), c.failed_with) for c in calls] == [("curl", 401), ("aws-cli", None)]
    assert "falling back to the AWS CLI" in result.stderr
    assert "after 1 attempt(s)" in result.stderr


def test_signed_off_and_transient_errors_keep_their_paths(claim: ClaimRig) -> None:
    off = claim.run(env={"HACOMPILE_EIP_SIGNED": "off", "HACOMPILE_EIP_HOT": "1"})
    assert off.rc == 0, off.stderr
    assert {_client(r) for r in claim.proxy.requests} == {"aws-cli"}
    assert claim.proxy.requests[0].action == "DescribeAddresses"  # no hot path without curl

    eip, peer = claim.lab.eips[0], claim.lab.enis[1]
    ec2_client(claim.proxy.upstream).associate_address(
        AllocationId=eip.allocation_id,
        NetworkInterfaceId=peer.eni_id,
        PrivateIpAddress=peer.slots[0],
        AllowReassociation=True,
    )
    claim.proxy.clear()
    claim.proxy.set_faults([Fault.internal_error("AssociateAddress", 2)])
    retried = claim.run(env={"HACOMPILE_EIP_HOT": "1"})
    assert retried.rc == 0, retried.stderr
    calls = claim.proxy.calls("AssociateAddress")
    assert [(_client(c), c.failed_with) for c in calls] == [
        ("curl", 500),
        ("curl", 500),
        ("curl", None),
    ]
    assert "InternalError" in retried.stderr


def test_hot_route_claim_writes_every_table_before_it_looks(claim: ClaimRig) -> None:
    """Without the describe first, the claim cannot know which table lacks the route: it
    replaces everywhere and creates where EC2 answers that there is no route to replace."""
    ours, peer = claim.lab.enis[0].eni_id, claim.lab.enis[1].eni_id
    tables = _route_tables(claim, [peer, None])
    _route_config(claim, tables)

    result = claim.run(env={"HACOMPILE_EIP_HOT": "1"})

    assert result.rc == 0, result.stderr
    assert _targets(claim, tables) == [ours, ours]
    actions = [
        (r.action, r.params.get("RouteTableId"), r.failed_with) for r in claim.proxy.requests
    ]
    assert actions[:3] == [
        ("ReplaceRoute", tables[0], None),
        ("ReplaceRoute", tables[1], None),
        ("CreateRoute", tables[1], None),
    ], actions
    assert {a for a, _, _ in actions[3:]} == {"DescribeRouteTables"}
    assert {_client(r) for r in claim.proxy.requests[:3]} == {"curl"}


def test_hot_secondary_ip_claim_is_one_signed_write(claim: ClaimRig) -> None:
    _give_peer_the_subnet_vip(claim)
    _secondary_config(claim)

    result = claim.run(env={"HACOMPILE_EIP_HOT": "1"})

    assert result.rc == 0, result.stderr
    assert claim.lab.enis[0].eni_id in _holders(claim, SUBNET_VIP)
    first = claim.proxy.requests[0]
    assert (first.action, _client(first)) == ("AssignPrivateIpAddresses", "curl")
    assert dict(first.params) | {"Version": ""} == {
        "Action": "AssignPrivateIpAddresses",
        "Version": "",
        "NetworkInterfaceId": claim.lab.enis[0].eni_id,
        "PrivateIpAddress.1": SUBNET_VIP,
        "AllowReassignment": "true",
    }
