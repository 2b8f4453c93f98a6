"""The stand-in AWS provider on its own: the go-plugin handshake, TLS, the served schema, and
the values it plans and reads. No terraform binary needed: a gRPC client plays Terraform.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

grpc = pytest.importorskip("grpc")
pb = pytest.importorskip("tf.gen.tfplugin_pb2")
x509 = pytest.importorskip("cryptography.x509")

from cryptography.hazmat.primitives import serialization  # noqa: E402

from hacompile.verify import tfwire  # noqa: E402
from hacompile.verify.tfmodel import load_schema_json, schema_from_json  # noqa: E402
from hacompile.verify.tfprovider_stub import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schema_from_json(load_schema_json())
# Stands in for Terraform's AutoMTLS client certificate (any PEM certificate will do here).
CLIENT_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _call(channel: Any, rpc: str, message: Any, request: Any) -> Any:
    stub = channel.unary_unary(
        f"/tfplugin6.Provider/{rpc}",
        request_serializer=message.Request.SerializeToString,
        response_deserializer=message.Response.FromString,
    )
    return stub(request, timeout=20)


@pytest.fixture(scope="module")
def plugin() -> Iterator[tuple[Any, subprocess.Popen[str]]]:
    """The stub started as Terraform starts it; a TLS channel trusting the printed certificate."""
    env = {
        **os.environ,
        MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE,
        "PLUGIN_PROTOCOL_VERSIONS": "5,6",
        "PLUGIN_CLIENT_CERT": CLIENT_CERT,
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "hacompile.verify.tfprovider_stub"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        core, app, network, address, protocol, cert = line.split("|")
        assert (core, app, network, protocol) == ("1", "6", "tcp", "grpc"), line
        assert address.startswith("127.0.0.1:"), line
        der = base64.b64decode(cert + "=" * (-len(cert) % 4))
        parsed = x509.load_der_x509_certificate(der)
        names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == ["localhost"]
        pem = parsed.public_bytes(serialization.Encoding.PEM)
        channel = grpc.secure_channel(
            address,
            grpc.ssl_channel_credentials(pem),
            options=[("grpc.ssl_target_name_override", "localhost")],
        )
        yield channel, proc
        channel.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_refuses_to_start_without_terraforms_magic_cookie() -> None:
    env = {k: v for k, v in os.environ.items() if k != MAGIC_COOKIE_KEY}
    proc = subprocess.run(
        [sys.executable, "-m", "hacompile.verify.tfprovider_stub"],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert "Terraform starts it" in proc.stderr


def test_serves_the_snapshot_with_one_item_blocks_as_lists(plugin: tuple[Any, Any]) -> None:
    channel, _ = plugin
    resp = _call(channel, "GetProviderSchema", pb.GetProviderSchema, pb.GetProviderSchema.Request())
    assert not resp.diagnostics
    assert set(resp.resource_schemas) == set(SCHEMA.resources)
    assert set(resp.data_source_schemas) == set(SCHEMA.data_sources)
    provider = {a.name: a for a in resp.provider.block.attributes}
    assert provider["region"].optional and json.loads(provider["region"].type) == "string"
    assert "alias" not in provider  # Terraform's meta-argument, not the provider's
    instance = resp.resource_schemas["aws_instance"].block
    blocks = {b.type_name: b for b in instance.block_types}
    meta = blocks["metadata_options"]
    assert (meta.nesting, meta.min_items, meta.max_items) == (pb.Schema.NestedBlock.LIST, 0, 1)
    assert blocks["timeouts"].nesting == pb.Schema.NestedBlock.SINGLE
    attrs = {a.name: a for a in instance.attributes}
    assert json.loads(attrs["secondary_private_ips"].type) == ["set", "string"]
    assert attrs["id"].computed and attrs["private_ip"].optional


def test_plans_computed_values_as_unknown(plugin: tuple[Any, Any]) -> None:
    channel, _ = plugin
    block = SCHEMA.resources["aws_eip"]
    proposed = {name: None for name in block.attributes}
    proposed |= {"domain": "vpc", "tags": {"Name": "x"}, "timeouts": None}
    request = pb.PlanResourceChange.Request(
        type_name="aws_eip", proposed_new_state=pb.DynamicValue(msgpack=tfwire.encode(proposed))
    )
    resp = _call(channel, "PlanResourceChange", pb.PlanResourceChange, request)
    planned = tfwire.decode(resp.planned_state.msgpack)
    assert planned["domain"] == "vpc" and planned["tags"] == {"Name": "x"}
    assert planned["public_ip"] == tfwire.UNKNOWN and planned["allocation_id"] == tfwire.UNKNOWN
    assert planned["address"] is None  # optional, not computed: stays as configured


def test_reads_data_sources_as_known_stand_in_values(plugin: tuple[Any, Any]) -> None:
    channel, _ = plugin
    block = SCHEMA.data_sources["aws_ami"]
    config = {name: None for name in block.attributes}
    config |= {
        "most_recent": True,
        "owners": ["099720109477"],
        "filter": [{"name": "name", "values": ["ubuntu/*"]}],
        "timeouts": None,
    }
    request = pb.ReadDataSource.Request(
        type_name="aws_ami", config=pb.DynamicValue(msgpack=tfwire.encode(config))
    )
    resp = _call(channel, "ReadDataSource", pb.ReadDataSource, request)
    state = tfwire.decode(resp.state.msgpack)
    assert state["id"] == "hacompile-stub-id"  # non-empty: coalesce() accepts it
    assert state["owners"] == ["099720109477"] and state["most_recent"] is True
    assert state["block_device_mappings"] == []
    assert tfwire.UNKNOWN not in state.values()


def test_refuses_to_apply(plugin: tuple[Any, Any]) -> None:
    channel, _ = plugin
    resp = _call(
        channel,
        "ApplyResourceChange",
        pb.ApplyResourceChange,
        pb.ApplyResourceChange.Request(type_name="aws_eip"),
    )
    assert [d.summary for d in resp.diagnostics] == ["cannot apply"]


def test_shuts_down_when_the_controller_says_so(plugin: tuple[Any, Any]) -> None:
    channel, proc = plugin
    shutdown = channel.unary_unary("/plugin.GRPCController/Shutdown")
    assert shutdown(b"", timeout=20) == b""
    assert proc.wait(timeout=10) == 0
