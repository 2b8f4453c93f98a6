"""A stand-in `hashicorp/aws` provider for real `terraform validate` and `terraform plan`.

Why: no registry here serves the AWS provider, yet Terraform's own validate and plan catch
what no offline parser does (a misspelled function, `each.value` without `for_each`, a
dependency cycle, indexing a `for_each` resource by a missing key). They need a provider
only for its schema and a plan, so this process serves the committed schema snapshot over
tfplugin6 and never talks to AWS: it plans creates (computed values "known after apply"),
reads data sources as fixed stand-in values, and refuses to read, import or apply.

Terraform starts it like any provider plugin (go-plugin): it checks the magic cookie, listens
on 127.0.0.1 with TLS, answers Terraform's client certificate (AutoMTLS: PLUGIN_CLIENT_CERT)
and prints `1|6|tcp|127.0.0.1:PORT|grpc|<its certificate>` on stdout. Run it with
`python -m hacompile.verify.tfprovider_stub`; hacompile/verify/tfreal.py installs a launcher
in a filesystem mirror for `terraform init -plugin-dir`.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import sys
import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tf.gen import tfplugin_pb2 as pb

from hacompile.verify import tfwire
from hacompile.verify.tfmodel import Schema, load_schema_json, schema_from_json

__all__ = ["MAGIC_COOKIE_KEY", "MAGIC_COOKIE_VALUE", "StubProvider", "main", "serve"]

# Terraform's go-plugin handshake (internal/plugin/serve.go).
MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
_REFUSED = "hacompile's stand-in AWS provider only validates and plans (it never talks to AWS)"


def _error(summary: str, detail: str = "") -> Any:
    return pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary, detail=detail)


NETWORK_ENV = "HACOMPILE_STUB_NETWORK"
Handler = Callable[[Any, Any], Any]  # (tfplugin6 message pair, request) -> response


class StubProvider:
    """The tfplugin6 `Provider` service over a schema snapshot; one method per RPC it serves."""

    def __init__(self, schema: Schema) -> None:
        if schema.provider_config is None:
            raise ValueError("the schema snapshot has no provider_config")
        self.schema = schema
        self._provider = pb.Schema(block=tfwire.block_proto(schema.provider_config))
        self._resources = {
            n: pb.Schema(block=tfwire.block_proto(b)) for n, b in schema.resources.items()
        }
        self._data = {
            n: pb.Schema(block=tfwire.block_proto(b)) for n, b in schema.data_sources.items()
        }

    def _known(self, type_name: str, config: Any) -> dict[str, Any] | None:
        """What the checker says the account holds for this lookup (NETWORK_ENV: a JSON file
        {type: {lookup key: {attribute: value}}}, the key being `id`, or `subnet_id` for a
        route table): an existing VPC, subnet or route table as the spec states them."""
        path = os.environ.get(NETWORK_ENV)
        if not path or not isinstance(config, dict):
            return None
        with open(path, encoding="utf-8") as fh:
            known: dict[str, dict[str, dict[str, Any]]] = json.load(fh)
        key = config.get("subnet_id" if type_name == "aws_route_table" else "id")
        return known.get(type_name, {}).get(str(key))

    def rpcs(self) -> dict[str, tuple[Any, Handler]]:
        """RPC name -> (its tfplugin6 message pair, handler). Others answer UNIMPLEMENTED."""
        return {
            "GetMetadata": (pb.GetMetadata, self.get_metadata),
            "GetProviderSchema": (pb.GetProviderSchema, self.get_provider_schema),
            "ValidateProviderConfig": (pb.ValidateProviderConfig, _empty),
            "ValidateResourceConfig": (pb.ValidateResourceConfig, _empty),
            "ValidateDataResourceConfig": (pb.ValidateDataResourceConfig, _empty),
            "ConfigureProvider": (pb.ConfigureProvider, _empty),
            "PlanResourceChange": (pb.PlanResourceChange, self.plan_resource_change),
            "ReadDataSource": (pb.ReadDataSource, self.read_data_source),
            "GetFunctions": (pb.GetFunctions, _empty),
            "StopProvider": (pb.StopProvider, _empty),
            "UpgradeResourceState": (pb.UpgradeResourceState, _refuse("read state")),
            "ReadResource": (pb.ReadResource, _refuse("refresh")),
            "ApplyResourceChange": (pb.ApplyResourceChange, _refuse("apply")),
            "ImportResourceState": (pb.ImportResourceState, _refuse("import")),
            "MoveResourceState": (pb.MoveResourceState, _refuse("move state")),
        }

    def get_metadata(self, message: Any, _request: Any) -> Any:
        return message.Response(
            server_capabilities=pb.ServerCapabilities(),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in self._resources],
            data_sources=[pb.GetMetadata.DataSourceMetadata(type_name=n) for n in self._data],
        )

    def get_provider_schema(self, message: Any, _request: Any) -> Any:
        return message.Response(
            provider=self._provider,
            resource_schemas=self._resources,
            data_source_schemas=self._data,
            server_capabilities=pb.ServerCapabilities(),
        )

    def plan_resource_change(self, message: Any, request: Any) -> Any:
        block = self.schema.resources.get(request.type_name)
        if block is None:
            return message.Response(diagnostics=[_error(f"unknown resource {request.type_name}")])
        planned = tfwire.planned_value(block, tfwire.decode(request.proposed_new_state.msgpack))
        # As the real (SDKv2) provider does: Terraform then tolerates what it would call an
        # inconsistent plan, so a quirk of this stand-in cannot fail a good bundle.
        return message.Response(
            planned_state=pb.DynamicValue(msgpack=tfwire.encode(planned)), legacy_type_system=True
        )

    def read_data_source(self, message: Any, request: Any) -> Any:
        block = self.schema.data_sources.get(request.type_name)
        if block is None:
            return message.Response(
                diagnostics=[_error(f"unknown data source {request.type_name}")]
            )
        config = tfwire.decode(request.config.msgpack)
        state = tfwire.read_value(block, config, self._known(request.type_name, config))
        return message.Response(state=pb.DynamicValue(msgpack=tfwire.encode(state)))


def _empty(message: Any, _request: Any) -> Any:
    return message.Response()


def _refuse(what: str) -> Handler:
    def handler(message: Any, _request: Any) -> Any:
        return message.Response(diagnostics=[_error(f"cannot {what}", _REFUSED)])

    return handler


def _unary(message: Any, handler: Handler) -> Any:
    return grpc.unary_unary_rpc_method_handler(
        lambda request, _context: handler(message, request),
        request_deserializer=message.Request.FromString,
        response_serializer=message.Response.SerializeToString,
    )


def _raw(reply: bytes) -> Any:
    """A unary handler for go-plugin's own services, whose tiny messages we write by hand."""
    return grpc.unary_unary_rpc_method_handler(
        lambda _req, _ctx: reply, request_deserializer=None, response_serializer=None
    )


def _certificate() -> tuple[bytes, bytes, bytes]:
    """A fresh self-signed certificate for `localhost`: (key PEM, cert PEM, cert DER).

    go-plugin's client trusts exactly the certificate printed in the handshake, as its own
    CA, and checks the name `localhost` and the server-auth usage.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=12))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        key_pem,
        cert.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.DER),
    )


def serve(provider: StubProvider, client_cert: str | None) -> tuple[Any, str, threading.Event]:
    """Start the gRPC server on 127.0.0.1; return it, its handshake line and a stop event."""
    stopped = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "tfplugin6.Provider",
                {name: _unary(msg, fn) for name, (msg, fn) in provider.rpcs().items()},
            ),
            grpc.method_handlers_generic_handler(
                "plugin.GRPCController", {"Shutdown": _shutdown_handler(stopped)}
            ),
            # grpc.health.v1 HealthCheckResponse{status: SERVING}, written out by hand
            grpc.method_handlers_generic_handler(
                "grpc.health.v1.Health", {"Check": _raw(b"\x08\x01")}
            ),
        )
    )
    if client_cert:
        # Terraform's client certificate is ECDSA P-521, a curve gRPC's BoringSSL does not
        # accept for client authentication (the Go client then sends none and the handshake
        # fails), so it is not demanded: the server listens on loopback only and holds no
        # secret. Terraform still verifies our certificate, which is what it insists on.
        key_pem, cert_pem, cert_der = _certificate()
        creds = grpc.ssl_server_credentials([(key_pem, cert_pem)])
        port = server.add_secure_port("127.0.0.1:0", creds)
        tail = "|" + base64.b64encode(cert_der).decode().rstrip("=")
    else:  # a client without AutoMTLS (not Terraform's default) speaks plain gRPC
        port = server.add_insecure_port("127.0.0.1:0")
        tail = ""
    server.start()
    return server, f"1|6|tcp|127.0.0.1:{port}|grpc{tail}", stopped


def _shutdown_handler(stopped: threading.Event) -> Any:
    def shutdown(_request: bytes, _context: Any) -> bytes:
        stopped.set()
        return b""  # google.protobuf.Empty

    return grpc.unary_unary_rpc_method_handler(shutdown)


def main() -> int:
    """Serve until Terraform shuts the plugin down (or closes our stdin/kills us)."""
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        print(
            "This is a Terraform provider plugin (hacompile's stand-in for hashicorp/aws); "
            "Terraform starts it, not a person.",
            file=sys.stderr,
        )
        return 1
    versions = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "6").split(",")
    if "6" not in versions:
        print(f"needs plugin protocol 6; the client offers {versions}", file=sys.stderr)
        return 1
    provider = StubProvider(schema_from_json(load_schema_json()))
    server, handshake, stopped = serve(provider, os.environ.get("PLUGIN_CLIENT_CERT"))
    print(handshake, flush=True)
    stopped.wait()
    server.stop(grace=0.2).wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
