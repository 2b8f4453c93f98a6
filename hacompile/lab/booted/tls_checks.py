"""After the deploy, with certificates in the spec: does every EIP serve HTTPS as the spec says?

Asked from the lab's client namespace, trusting only the lab's root (`curl --cacert`): every
route sample of each HTTPS frontend through every EIP reaches its pool, with the HSTS header
and over HTTP/2; each name of each certificate gets that certificate (fingerprints, through
every EIP and on every LB directly); the redirecting frontend answers 301 to the same URL over
HTTPS. With metrics, /metrics/tls reports each certificate synced and the served fingerprint,
from an allowed address, and is refused from the controller.
"""

from __future__ import annotations

import re
import subprocess
from typing import TYPE_CHECKING

from hacompile.lab.booted import tls
from hacompile.lab.booted.checks import Result
from hacompile.lab.booted.metrics import _curl, _python_get
from hacompile.lab.hosts import in_netns
from hacompile.plan import model as p
from hacompile.plan import routing

if TYPE_CHECKING:
    from hacompile.lab.booted.lab import BootedLab

REDIRECT_PATH = "/a/b?x=1"


def covers(name: str, host: str) -> bool:
    """RFC 6125: a wildcard covers exactly one label."""
    if name.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == name[2:]
    return name == host


def _sni(plan: p.Plan, host: str) -> str:
    """The server name a client would send for `host`: itself if a certificate covers it,
    else the default certificate's first name (a Host no certificate names still routes)."""
    names = [n for c in tls.certificates(plan) for n in c.names]
    if any(covers(n, host) for n in names):
        return host
    return tls.probe_name(names[0])


def _host_port(host: str, port: int, default: int = 443) -> str:
    """A URL's authority as a browser writes it: no port when it is the scheme's own."""
    return host if port == default else f"{host}:{port}"


def _client(lab: BootedLab, args: list[str]) -> str:
    cmd = in_netns(lab.topo.ns("client"), ["curl", "-sS", "--max-time", "5", *args])
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=15, check=False)
    except subprocess.TimeoutExpired:
        return "curl timed out"
    return done.stdout if done.returncode == 0 else f"curl exit {done.returncode}: {done.stderr}"


def https_checks(lab: BootedLab) -> list[Result]:
    """Routes, HSTS and HTTP/2 of every HTTPS frontend through every EIP."""
    assert lab.tls is not None
    out: list[Result] = []
    root = str(lab.tls.ca.root_file)
    for fe in tls.https_frontends(lab.plan):
        for eip in lab.topo.eips:
            versions, hsts = [], []
            for sample in routing.samples(fe):
                sni = _sni(lab.plan, sample.host)
                args = ["--http2", "--cacert", root, "--resolve", f"{sni}:{fe.port}:{eip.address}"]
                args += ["-D", "-", "-w", "\n%{http_version}"]
                args += ["-H", f"Host: {sample.host}"] if sni != sample.host else []
                text = _client(lab, [*args, f"https://{_host_port(sni, fe.port)}{sample.path}"])
                head, _, rest = text.partition("\n\n")  # text mode: CRLF read as \n
                body, _, version = rest.rpartition("\n")
                versions.append(version.strip())
                header = re.search(r"(?im)^strict-transport-security:\s*(.+?)\s*$", head)
                hsts.append(header.group(1) if header else "")
                served = re.search(r"<p>Served by (.*?)</p>", body)
                out.append(
                    Result(
                        f"{eip.key}: {fe.name} https://{sample.host}{sample.path} -> pool "
                        f"{sample.pool}",
                        f"<p>Pool {sample.pool}</p>" in body,
                        served.group(1) if served else text.strip()[-120:] or "no answer",
                    )
                )
            out.append(
                Result(
                    f"{eip.key}: {fe.name} negotiates HTTP/2 (ALPN h2)",
                    all(v == "2" for v in versions),
                    f"HTTP versions {sorted(set(versions))}",
                )
            )
            if fe.hsts:
                out.append(
                    Result(
                        f"{eip.key}: {fe.name} sends Strict-Transport-Security",
                        all(h == fe.hsts for h in hsts),
                        f"{sorted(set(hsts))} (expected {fe.hsts!r})",
                    )
                )
    return out


def certificate_checks(lab: BootedLab) -> list[Result]:
    """Each name of each certificate: that certificate, through every EIP and every LB."""
    assert lab.tls is not None
    out = []
    for cert in tls.certificates(lab.plan):
        want = lab.tls.stored[cert.name]
        for name in cert.names:
            got = tls.served(lab, name)
            wrong = {k: v for k, v in got.items() if v != want}
            out.append(
                Result(
                    f"SNI {tls.probe_name(name)}: certificate {cert.name} ({want[:12]}) on "
                    f"{', '.join(got)}",
                    not wrong,
                    "; ".join(f"{k}: {v[:80]}" for k, v in wrong.items()) or "all match",
                )
            )
    return out


def redirect_checks(lab: BootedLab) -> list[Result]:
    """`http://HOST/a/b?x=1` -> 301 to `https://HOST/a/b?x=1` through every EIP."""
    out = []
    hosts = [tls.probe_name(c.names[0]) for c in tls.certificates(lab.plan)]
    for fe in tls.redirect_frontends(lab.plan):
        for eip in lab.topo.eips:
            for host in hosts:
                got = _client(
                    lab,
                    [
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code} %{redirect_url}",
                        "--resolve",
                        f"{host}:{fe.port}:{eip.address}",
                        f"http://{_host_port(host, fe.port, 80)}{REDIRECT_PATH}",
                    ],
                )
                want = f"301 https://{_host_port(host, 443)}{REDIRECT_PATH}"
                out.append(
                    Result(
                        f"{eip.key}: {fe.name} http://{host}{REDIRECT_PATH} -> {want}",
                        got.strip() == want,
                        got.strip()[:160],
                    )
                )
    return out


def checks(lab: BootedLab) -> list[Result]:
    if lab.tls is None:
        return []
    return https_checks(lab) + certificate_checks(lab) + redirect_checks(lab)


SERVING = re.compile(r'^hacompile_tls_serving_info\{name="([^"]+)",sha256="([0-9a-f]+)"\} 1$', re.M)


def tls_sample(body: str, metric: str, name: str) -> str:
    """The value of `metric{name="NAME"}` in a /metrics/tls body ('' if absent)."""
    prefix = f'{metric}{{name="{name}"}} '
    return next((ln[len(prefix) :] for ln in body.splitlines() if ln.startswith(prefix)), "")


def serving(body: str) -> dict[str, str]:
    """name -> fingerprint from a /metrics/tls body."""
    return dict(SERVING.findall(body))


def metrics_checks(lab: BootedLab) -> list[Result]:
    """/metrics/tls on every LB: each certificate synced, serving the stored fingerprint, from
    a host inside metrics.cidrs; refused (403) from the controller."""
    if lab.tls is None or not lab.plan.observability.metrics_port:
        return []
    out = []
    port = lab.plan.observability.metrics_port
    scraper = next((b for b in lab.topo.backends if b.name in lab.machines), None)
    for lb in lab.plan.regions[lab.region_index].load_balancers:
        url = f"http://{lb.private_ip}:{port}{tls.METRICS_PATH}"
        if scraper:
            status, body = _python_get(lab, scraper.name, url)
        else:
            status, body = tls.sync_metrics(lab, lb.key)
        names = [c.name for c in tls.certificates(lab.plan)]
        synced = [n for n in names if tls_sample(body, "hacompile_tls_sync_ok", n) == "1"]
        shas = serving(body)
        right = [n for n in names if shas.get(n) == lab.tls.stored[n]]
        out.append(
            Result(
                f"{lb.key}: {tls.METRICS_PATH} shows {', '.join(names)} synced and served"
                + (f" (asked from {scraper.name})" if scraper else ""),
                status == 200 and synced == names and right == names,
                f"HTTP {status}, synced {synced}, serving the stored version: {right}",
            )
        )
        ctl = in_netns(
            lab.topo.ns("ctl"), ["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", url]
        )
        status, _ = _curl(ctl)
        out.append(
            Result(
                f"{lb.key}: {tls.METRICS_PATH} refused from the controller (outside metrics.cidrs)",
                status == 403,
                f"HTTP {status}",
            )
        )
    return out
