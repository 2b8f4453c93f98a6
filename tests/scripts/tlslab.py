"""Helpers for the hacompile-tls-sync tests: a small PKI, the secrets in moto, and the rig.

Why a module of its own: the certificates (a root, an intermediate, leaves that are good,
expired, for other names or with another key) and the fake systemctl/haproxy are shared by
every test, and conftest.py holds only fixtures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from scriptlab import TLS_SYNC, RunResult, SyslogSink, write_env_file

REGION = "eu-west-1"
NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    key: Key
    cert: x509.Certificate

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def key_body(self) -> str:
        """The base64 body of the key: what must never show up in any output."""
        return "".join(line for line in self.key_pem.splitlines() if "-----" not in line)

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()


def issue(
    cn: str,
    issuer: Issued | None = None,
    *,
    ca: bool = False,
    names: Sequence[str] = (),
    not_before: dt.datetime = NOW - DAY,
    not_after: dt.datetime = NOW + 90 * DAY,
    key: Key | None = None,
) -> Issued:
    """A certificate for `cn`, signed by `issuer` (self-signed without one)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        usage = dict.fromkeys(
            ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment"),
            False,
        )
        builder = builder.add_extension(
            x509.KeyUsage(
                **usage,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    signer = issuer.key if issuer else key
    return Issued(key, builder.sign(signer, hashes.SHA256()))


@dataclass(frozen=True)
class Pki:
    root: Issued
    intermediate: Issued

    def leaf(self, *names: str, **kwargs: Any) -> Issued:
        return issue(names[0] if names else "leaf", self.intermediate, names=names, **kwargs)

    def bundle(self, leaf: Issued, *, key: Issued | None = None, chain: bool = True) -> str:
        """A secret as operators store it: key, leaf, intermediate, root (any order works)."""
        parts = [(key or leaf).key_pem, leaf.cert_pem]
        if chain:
            parts += [self.intermediate.cert_pem, self.root.cert_pem]
        return "".join(parts)


def make_pki(cn: str = "Test Root") -> Pki:
    root = issue(cn, ca=True, not_after=NOW + 3650 * DAY)
    return Pki(root, issue(f"{cn} Intermediate", root, ca=True, not_after=NOW + 1825 * DAY))


def fake(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


@dataclass
class TlsRig:
    """Config, output, state and metrics dirs; a fake systemctl and haproxy; moto clients."""

    root: Path
    moto_url: str
    syslog: SyslogSink
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for d in ("conf", "out", "state", "bin", "home"):
            (self.root / d).mkdir(mode=0o755)
            (self.root / d).chmod(0o755)
        self.calls = self.root / "calls.log"
        self.calls.touch()
        fake(
            self.bin / "systemctl",
            f'echo "systemctl $*" >>{self.calls}\n'
            "case $1 in\n"
            f"  is-active) [ -e {self.bin}/active ] ;;\n"
            f"  reload) [ ! -e {self.bin}/reload-fails ] ;;\n"
            "  *) exit 1 ;;\nesac\n",
        )
        fake(
            self.bin / "haproxy",
            f'echo "haproxy $*" >>{self.calls}\n'
            f'if [ -e {self.bin}/check-fails ]; then echo "[ALERT] bad config" >&2; exit 1; fi\n',
        )
        (self.bin / "active").touch()
        self.env = {
            "PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/nonexistent/hacompile-aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/hacompile-aws-config",
            "AWS_EC2_METADATA_DISABLED": "true",
            "HACOMPILE_TLS_CONF_DIR": str(self.conf),
            "HACOMPILE_TLS_DIR": str(self.out),
            "HACOMPILE_TLS_STATE_DIR": str(self.root / "state"),
            "HACOMPILE_METRICS_DIR": str(self.root / "metrics"),
            "HACOMPILE_TLS_TRUST_UID": str(os.getuid()),
            "HACOMPILE_TLS_SYSTEM_CA": "/nonexistent/ca-certificates.crt",
            "HACOMPILE_LOG_SOCKET": self.syslog.path,
            "HACOMPILE_TLS_STDERR": "1",
        }
        write_env_file(
            self.conf / "sync.conf",
            {
                "SERVICE": "haproxy",
                "HAPROXY": str(self.bin / "haproxy"),
                "CONFIG": "/etc/haproxy/haproxy.cfg",
                "GROUP": self.group,
                "REGION": REGION,
            },
        )

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def group(self) -> str:
        import grp

        return grp.getgrgid(os.getgid()).gr_name

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.moto_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def secret(self, value: str, store: str = "secretsmanager") -> str:
        """A new secret (or SecureString parameter) holding `value`; returns its id."""
        name = f"/hacompile/tls/{uuid.uuid4().hex[:12]}"
        self.put(name, value, store, create=True)
        return name

    def put(
        self, name: str, value: str, store: str = "secretsmanager", create: bool = False
    ) -> None:
        if store == "ssm":
            self.client("ssm").put_parameter(
                Name=name, Value=value, Type="SecureString", Overwrite=True
            )
        elif create:
            self.client("secretsmanager").create_secret(Name=name, SecretString=value)
        else:
            self.client("secretsmanager").put_secret_value(SecretId=name, SecretString=value)

    def item(
        self,
        name: str,
        secret_id: str,
        *,
        kind: str = "certificate",
        store: str = "secretsmanager",
        names: str = "",
    ) -> None:
        values = {"KIND": kind, "STORE": store, "SECRET_ID": secret_id}
        if kind == "certificate":
            values["NAMES"] = names
        write_env_file(self.conf / f"{name}.env", values)

    def pem(self, name: str) -> Path:
        return self.out / f"{name}.pem"

    def digest(self, name: str) -> str:
        return hashlib.sha256(self.pem(name).read_bytes()).hexdigest()

    def metrics(self) -> dict[str, float]:
        """tls.prom as {'metric{labels}': value} (comment lines checked to be well formed)."""
        samples: dict[str, float] = {}
        for line in (self.root / "metrics" / "tls.prom").read_text().splitlines():
            if line.startswith("#"):
                assert line.split()[1] in ("HELP", "TYPE"), line
                continue
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
        return samples

    def call_log(self) -> list[str]:
        return self.calls.read_text().splitlines()

    def clear_calls(self) -> None:
        self.calls.write_text("")

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> RunResult:
        start = time.monotonic()
        proc = subprocess.run(
            [str(TLS_SYNC), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        elapsed = time.monotonic() - start
        time.sleep(0.05)  # let the last datagrams land
        return RunResult(
            proc.returncode, proc.stdout, proc.stderr, elapsed, tuple(self.syslog.messages())
        )
