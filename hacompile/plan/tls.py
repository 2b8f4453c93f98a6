"""TLS, planned: the files every load balancer installs from the secret stores, what each
HTTPS frontend binds with, and the IAM statements that let the role read exactly those secrets.

The profile is Mozilla's "intermediate" (TLS 1.2 and 1.3, forward-secret AEAD ciphers only, no
session tickets: their keys would be per node and never rotated), the one Mozilla recommends
for a general-purpose server; ALPN offers HTTP/2 before HTTP/1.1, as ALB does.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from hacompile.plan import model as p
from hacompile.spec.model import FrontendSpec, PoolSpec, Spec

# Mozilla Server Side TLS 5.7, intermediate: TLS 1.2 ciphers (TLS 1.3 suites separately).
CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-CHACHA20-POLY1305",
)
CIPHERSUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
OPTIONS = "prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets"
SERVER_OPTIONS = "ssl-min-ver TLSv1.2 no-tls-tickets"  # the client side: no preference to give
ALPN = "h2,http/1.1"
# ffdhe2048 (RFC 7919) for the DHE ciphers: HAProxy's built-in default group of that size.
DH_PARAM_BITS = 2048


def tls(spec: Spec, flavor: p.Flavor) -> p.Tls:
    """The certificates and CA bundles to install, in the spec's order; `p.Tls()` without
    top-level `tls` (nothing is planned, rendered or granted)."""
    if spec.tls is None:
        return p.Tls()
    directory = str(PurePosixPath(flavor.haproxy_config).parent / "tls")
    items = [
        p.TlsFile(
            name=c.name,
            kind="certificate",
            store="secretsmanager" if c.secretsmanager else "ssm",
            secret_id=str(c.secretsmanager or c.ssm),
            names=tuple(c.names),
            path=f"{directory}/{c.name}.pem",
        )
        for c in spec.tls.certificates
    ]
    items += [
        p.TlsFile(
            name=c.name,
            kind="ca",
            store="secretsmanager" if c.secretsmanager else "ssm",
            secret_id=str(c.secretsmanager or c.ssm),
            names=(),
            path=f"{directory}/{c.name}.pem",
        )
        for c in spec.tls.cas
    ]
    return p.Tls(
        files=tuple(items),
        directory=directory,
        refresh=spec.tls.refresh,
        hard_stop_after=spec.tls.hard_stop_after,
    )


def frontend_tls(fe: FrontendSpec, directory: str) -> tuple[tuple[str, ...], str]:
    """The certificate files a frontend binds (SNI picks; the first is the default) and its
    Strict-Transport-Security value ("" for none); `directory` is `Tls.directory`."""
    if fe.tls is None:
        return (), ""
    crts = tuple(f"{directory}/{name}.pem" for name in fe.tls.certificates)
    hsts = fe.tls.hsts
    if hsts is None:
        return crts, ""
    value = f"max-age={hsts.max_age}"
    value += "; includeSubDomains" if hsts.include_subdomains else ""
    value += "; preload" if hsts.preload else ""
    return crts, value


def pool_tls(pool: PoolSpec, directory: str) -> tuple[str, str]:
    """The CA file a pool's servers are verified against ("" for plain TCP) and the name
    they must present (and are sent as SNI; "" for none)."""
    if pool.tls is None:
        return "", ""
    return f"{directory}/{pool.tls.ca}.pem", pool.tls.server_name or ""


def read_policy(plan: p.Plan, region: p.Region) -> dict[str, Any]:
    """Read exactly the spec's secrets in this region, and decrypt them only through the
    service that stores them (a KMS key policy still has to allow the role, for a customer
    managed key). `${account_id}` is filled in by Terraform's templatefile. A Secrets Manager
    ARN ends in `-` and six random characters, which `-??????` matches and nothing longer."""
    arn = f"arn:{plan.partition}"
    secrets = sorted(
        f"{arn}:secretsmanager:{region.name}:${{account_id}}:secret:{f.secret_id}-??????"
        for f in plan.tls.files
        if f.store == "secretsmanager"
    )
    parameters = sorted(
        f"{arn}:ssm:{region.name}:${{account_id}}:parameter/{f.secret_id.lstrip('/')}"
        for f in plan.tls.files
        if f.store == "ssm"
    )
    statements: list[dict[str, Any]] = []
    services = []
    if secrets:
        services.append(f"secretsmanager.{region.name}.amazonaws.com")
        statements.append(
            {
                "Sid": "ReadTheTlsSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secrets,
            }
        )
    if parameters:
        services.append(f"ssm.{region.name}.amazonaws.com")
        statements.append(
            {
                "Sid": "ReadTheTlsParameters",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": parameters,
            }
        )
    statements.append(
        {
            "Sid": "DecryptThemOnlyThroughTheirService",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": f"{arn}:kms:{region.name}:${{account_id}}:key/*",
            "Condition": {"StringEquals": {"kms:ViaService": services}},
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}
