"""The spec's TLS: certificates from a secret store, HTTPS frontends, TLS to the servers.

Why the certificates come from Secrets Manager or SSM and never from a file next to ha.yaml: an
active-active pair needs the same certificate on every node, rotated on every node, and a
private key in the bundle (or in Terraform state, or in Ansible's output) is a key leaked to
everyone who can read those. So the spec names where each PEM bundle (key, certificate, chain)
lives; the load balancer role reads exactly those secrets (IAM on their ARNs), and a timer on
every node fetches, validates and installs the current version (docs/tls.md).

Kept apart from `hacompile.spec.model` (which imports these models); the cross-field rules
(unknown certificates, route hosts no certificate covers, redirects with nowhere to go) are
`hacompile.spec.tls_rules`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from hacompile.spec import bounds
from hacompile.spec.types import Duration, Identifier


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})+")


def _certificate_name(value: str) -> str:
    """A name a certificate must cover: a DNS name or a wildcard `*.example.com`, as in the
    certificate's subjectAltName (lower case, at least two labels)."""
    if value != value.lower():
        raise ValueError(f"{value!r}: write names in lower case ({value.lower()})")
    if len(value) > 253 or not _DNS_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a DNS name such as www.example.com or *.example.com "
            "(`*` only as the whole first label)"
        )
    return value


def _secret_name(value: str) -> str:
    """A Secrets Manager secret name (not an ARN: the same name in every region the spec
    names, where the secret is a replica; the ARN is the module's to build)."""
    if value.startswith("arn:"):
        raise ValueError(
            f"{value!r}: give the secret's name, not its ARN (one name for every region; "
            "replicate the secret to each region the spec names)"
        )
    part = r"[A-Za-z0-9][A-Za-z0-9_+=.@-]*"
    if len(value) > 512 or not re.fullmatch(rf"{part}(/{part})*", value):
        raise ValueError(
            f"{value!r} is not a Secrets Manager secret name: /-separated parts of letters, "
            "digits and _ + = . @ -, each starting with a letter or digit"
        )
    if re.search(r"-[A-Za-z0-9]{6}$", value):
        raise ValueError(
            f"{value!r} ends in a hyphen and six characters, which Secrets Manager's own "
            "suffix looks like: IAM could not tell the name from another secret's; rename it"
        )
    return value


def _ssm_name(value: str) -> str:
    """An SSM parameter name, hierarchical (`/team/app/tls`), as its ARN needs it."""
    if not re.fullmatch(r"(/[A-Za-z0-9_.-]{1,200}){1,15}", value):
        raise ValueError(
            f"{value!r} is not a hierarchical SSM parameter name such as /prod/www/tls "
            "(/-separated parts of letters, digits and _ . -)"
        )
    if value.lower().startswith(("/aws", "/ssm")):
        raise ValueError(f"{value!r}: names under /aws and /ssm are reserved by AWS")
    return value


CertificateName = Annotated[str, AfterValidator(_certificate_name)]
SecretName = Annotated[str, AfterValidator(_secret_name)]
SsmParameterName = Annotated[str, AfterValidator(_ssm_name)]


class _StoredSpec(_Strict):
    """Exactly one store: `secretsmanager` (a secret's SecretString) or `ssm` (a SecureString
    parameter); the value is a PEM text."""

    secretsmanager: SecretName | None = None
    ssm: SsmParameterName | None = None

    @model_validator(mode="after")
    def _one_store(self) -> _StoredSpec:
        if (self.secretsmanager is None) == (self.ssm is None):
            raise ValueError(
                "name exactly one store: `secretsmanager: <secret name>` or "
                "`ssm: <SecureString parameter name>`"
            )
        return self


class CertificateSpec(_StoredSpec):
    """A server certificate: the stored PEM holds its private key, the certificate and the
    chain up to (not necessarily including) a trusted root. A version is installed only if the
    key matches, the chain is complete, nothing has expired and it covers every `names`."""

    name: Identifier
    names: Annotated[
        list[CertificateName],
        Field(min_length=1, max_length=bounds.MAX_CERTIFICATE_NAMES, description=bounds.NAMES),
    ]


class CaBundleSpec(_StoredSpec):
    """CA certificates (PEM) that servers of a pool with `tls` must chain to."""

    name: Identifier


class TlsSpec(_Strict):
    """Where the certificates live and how often every load balancer looks for a new version."""

    certificates: Annotated[
        list[CertificateSpec],
        Field(min_length=1, max_length=bounds.MAX_CERTIFICATES, description=bounds.CERTIFICATES),
    ]
    cas: Annotated[
        list[CaBundleSpec], Field(max_length=bounds.MAX_CERTIFICATES, description=bounds.CAS)
    ] = []
    # How often each load balancer fetches the stored versions (a systemd timer).
    refresh: Duration = "5m"
    # Old workers keep serving their open connections after a reload for at most this long.
    hard_stop_after: Duration = "30m"


class HstsSpec(_Strict):
    """Strict-Transport-Security on every response of the frontend."""

    max_age: Annotated[int, Field(ge=300, le=63_072_000)] = 31_536_000
    include_subdomains: bool = False
    preload: bool = False


class FrontendTlsSpec(_Strict):
    """Terminate TLS on this frontend with `certificates` (by SNI; the first one for clients
    that send none), Mozilla's intermediate profile, ALPN h2 and http/1.1."""

    certificates: Annotated[
        list[Identifier], Field(min_length=1, max_length=bounds.MAX_CERTIFICATES)
    ]
    hsts: HstsSpec | None = None


class PoolTlsSpec(_Strict):
    """Connect to the pool's servers (and check them) over TLS, verifying each server's
    certificate against the CA bundle `ca`; with `server_name`, also sent as SNI and required
    in the server's certificate."""

    ca: Identifier
    server_name: CertificateName | None = None
