"""The lab's own certificate authority: a root, an intermediate, and a leaf per spec certificate.

Why a CA of its own: the bundle never holds a certificate (the load balancers fetch them from
Secrets Manager or SSM), so the lab must put into its emulated cloud what an operator would: a
PEM bundle per certificate, with the key. The root stays in the lab directory with its key (the
client trusts it with `--cacert`); the stored bundle is "leaf, intermediate, root, key", as an
operator with a private CA stores it, so the hosts' validation (system CA bundle plus the
self-signed certificates in the PEM) can build the chain. A rotation is a new leaf with a new
key; a corrupt version is a leaf stored with a key that is not its own.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Issued", "LabCa", "fingerprint"]

KEY_BITS = 2048
LEAF_DAYS = 30


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def fingerprint(cert_pem_or_der: str | bytes) -> str:
    """The hex SHA-256 of a certificate's DER (what `hacompile_tls_serving_info` reports and
    what a client sees): from PEM text or DER bytes."""
    if isinstance(cert_pem_or_der, str):
        cert = x509.load_pem_x509_certificate(cert_pem_or_der.encode())
        return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return hashlib.sha256(cert_pem_or_der).hexdigest()


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hacompile lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _cert(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    days: int,
    ca: int | None,
    names: tuple[str, ...] = (),
) -> x509.Certificate:
    """One certificate; `ca` is the path length of a CA certificate (None: a server leaf)."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(True, ca), True).add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = (
            builder.add_extension(x509.BasicConstraints(False, None), True)
            .add_extension(
                x509.KeyUsage(True, False, True, False, False, False, False, False, False), True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Issued:
    """A stored version: the PEM text put into the secret, and its leaf's fingerprint."""

    pem: str
    sha256: str


@dataclass(frozen=True)
class LabCa:
    """Root and intermediate (certificates and keys), the root's PEM file for clients."""

    root: x509.Certificate
    root_key: rsa.RSAPrivateKey
    intermediate: x509.Certificate
    intermediate_key: rsa.RSAPrivateKey
    root_file: Path

    @classmethod
    def create(cls, directory: Path) -> LabCa:
        """A fresh root (10 years) and intermediate (5 years); the root's certificate and
        both keys are written to `directory` (the keys 0600: they never leave the lab)."""
        directory.mkdir(parents=True, exist_ok=True)
        root_key, inter_key = _key(), _key()
        root_name, inter_name = _name("hacompile lab root CA"), _name("hacompile lab issuing CA")
        root = _cert(root_name, root_key, root_name, root_key, 3650, 1)
        inter = _cert(inter_name, inter_key, root_name, root_key, 1825, 0)
        root_file = directory / "root.pem"
        root_file.write_text(_pem(root), encoding="utf-8")
        (directory / "intermediate.pem").write_text(_pem(inter), encoding="utf-8")
        for name, key in (("root.key", root_key), ("intermediate.key", inter_key)):
            fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(_key_pem(key))
        return cls(root, root_key, inter, inter_key, root_file)

    def issue(self, names: tuple[str, ...], *, wrong_key: bool = False) -> Issued:
        """A new leaf with a new key covering `names` (SANs; the first is the CN), stored as
        leaf, intermediate, root, key. `wrong_key`: the bundle carries another key than the
        leaf's, a version the hosts must reject."""
        key = _key()
        leaf = _cert(
            _name(names[0]),
            key,
            self.intermediate.subject,
            self.intermediate_key,
            LEAF_DAYS,
            None,
            names,
        )
        stored = _key() if wrong_key else key
        pem = _pem(leaf) + _pem(self.intermediate) + _pem(self.root) + _key_pem(stored)
        return Issued(pem, fingerprint(_pem(leaf)))
