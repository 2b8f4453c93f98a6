"""Rules for TLS that the model's shapes cannot see, each reported at its own line.

A frontend naming a certificate the spec does not define, a certificate nothing uses, a route
host that no certificate of its frontend covers (clients would see a name mismatch on every
request), a redirect to HTTPS with no HTTPS frontend on 443 to land on: HAProxy would start
with some of these and fail clients later; the certificate pipeline would refuse the rest on
every node at run time. All of them are known from the spec alone.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hacompile.errors import Loc
from hacompile.spec.model import FrontendSpec, Spec
from hacompile.spec.tls import CaBundleSpec, CertificateSpec

if TYPE_CHECKING:
    from hacompile.spec.rules import Findings

HTTPS_PORT = 443


def check(spec: Spec, found: Findings) -> None:
    tls = spec.tls
    certificates = {c.name: c for c in reversed(tls.certificates)} if tls else {}  # first wins
    cas = {c.name for c in tls.cas} if tls else set()
    if tls:
        _unique(tls.certificates, ("tls", "certificates"), "certificate", found)
        _unique(tls.cas, ("tls", "cas"), "CA bundle", found)
        _stores(spec, found)
    used: set[str] = set()
    for fi, fe in enumerate(spec.haproxy.frontends):
        at: Loc = ("haproxy", "frontends", fi)
        if fe.redirect_https:
            _redirect(spec, fe, at, found)
        if fe.tls is None:
            continue
        if fe.mode != "http":
            found.add(
                (*at, "tls"),
                "`tls` terminates HTTPS on an http frontend; a tcp frontend passes TLS through "
                "to its servers as it is",
            )
        if tls is None:
            found.add((*at, "tls"), "names certificates, and the spec has no top-level `tls`")
            continue
        for ci, name in enumerate(fe.tls.certificates):
            if name not in certificates:
                found.add((*at, "tls", "certificates", ci), _unknown(name, list(certificates)))
            used.add(name)
        names = [n for c in fe.tls.certificates if c in certificates for n in certificates[c].names]
        for ri, route in enumerate(fe.routes):
            if route.host and not any(name_covers(n, route.host) for n in names):
                found.add(
                    (*at, "routes", ri, "host"),
                    f"no certificate of frontend {fe.name} covers {route.host}: add it to the "
                    "`names` of one of them (clients would see a name mismatch)",
                )
    for ci, cert in enumerate(tls.certificates if tls else []):
        if cert.name not in used:
            found.add(
                ("tls", "certificates", ci, "name"),
                f"certificate {cert.name} is not used: no frontend's `tls.certificates` names it",
            )
    _pools(spec, cas, found)


def _unique(
    items: Sequence[CertificateSpec | CaBundleSpec], at: Loc, what: str, found: Findings
) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        name = item.name
        if name in seen:
            found.add((*at, i, "name"), f"{what} {name} is defined twice (first at [{seen[name]}])")
        seen.setdefault(name, i)


def _stores(spec: Spec, found: Findings) -> None:
    """One stored value, one file on the load balancers: two items reading the same secret
    would install it twice under two names (one of them is surely a typo)."""
    assert spec.tls is not None
    seen: dict[tuple[str, str], str] = {}
    groups: tuple[tuple[str, Sequence[CertificateSpec | CaBundleSpec]], ...] = (
        ("certificates", spec.tls.certificates),
        ("cas", spec.tls.cas),
    )
    for key, items in groups:
        for i, item in enumerate(items):
            store = "secretsmanager" if item.secretsmanager else "ssm"
            ident = (store, str(item.secretsmanager or item.ssm))
            if ident in seen:
                found.add(
                    ("tls", key, i, store),
                    f"{item.name} reads the same {store} value as {seen[ident]}",
                )
            seen.setdefault(ident, item.name)


def _redirect(spec: Spec, fe: FrontendSpec, at: Loc, found: Findings) -> None:
    if fe.mode != "http":
        found.add((*at, "redirect_https"), "a redirect is an HTTP answer: needs mode http")
    if fe.tls is not None:
        found.add((*at, "redirect_https"), "this frontend already serves HTTPS (`tls`)")
    for key in ("routes", "default_pool"):
        if getattr(fe, key):
            found.add(
                (*at, key),
                f"frontend {fe.name} answers every request with a redirect (`redirect_https`); "
                f"its `{key}` would never be used",
            )
    if not any(f.tls and f.port == HTTPS_PORT for f in spec.haproxy.frontends):
        found.add(
            (*at, "redirect_https"),
            f"redirects to https:// on port {HTTPS_PORT}, and no frontend with `tls` listens there",
        )


def _pools(spec: Spec, cas: set[str], found: Findings) -> None:
    for pi, pool in enumerate(spec.pools):
        if pool.tls and pool.tls.ca not in cas:
            message = (
                _unknown(pool.tls.ca, sorted(cas), "CA bundle")
                if cas
                else "names a CA bundle, and the spec has no `tls.cas`"
            )
            found.add(("pools", pi, "tls", "ca"), message)
    used = {p.tls.ca for p in spec.pools if p.tls}
    for ci, ca in enumerate(spec.tls.cas if spec.tls else []):
        if ca.name not in used:
            found.add(
                ("tls", "cas", ci, "name"),
                f"CA bundle {ca.name} is not used: no pool's `tls.ca` names it",
            )


def _unknown(name: str, known: list[str], what: str = "certificate") -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"no {what} named {name}; did you mean {close[0]}?"
    return f"no {what} named {name} (defined: {', '.join(known) or 'none'})"


def name_covers(name: str, host: str) -> bool:
    """Whether a certificate name covers a route host as TLS clients check it (RFC 6125): a
    wildcard stands for exactly one label, so `*.example.com` covers a.example.com, not
    example.com nor a.b.example.com; a wildcard route host needs the same wildcard."""
    if name == host:
        return True
    if not name.startswith("*.") or host.startswith("*."):
        return False
    first, _, rest = host.partition(".")
    return bool(first) and rest == name[2:]
