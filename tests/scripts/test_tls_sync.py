"""hacompile-tls-sync with the real openssl and AWS CLI against moto's Secrets Manager and SSM.

A fake systemctl and haproxy on PATH record their calls (tlslab.TlsRig); the certificates come
from a throwaway PKI (root, intermediate, leaves) made with `cryptography`.
"""

from __future__ import annotations

import grp
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scriptlab import SyslogSink
from tlslab import DAY, NOW, Issued, Pki, TlsRig, issue, make_pki

from hacompile.standins.moto import MotoServer

EX_USAGE, EX_REJECTED, EX_NO_FILE, EX_CONFIG = 64, 65, 66, 78
HOST = "www.example.com"
CHECK = "haproxy -c -f /etc/haproxy/haproxy.cfg"
RELOAD = "systemctl reload haproxy"

pytestmark = pytest.mark.skipif(
    shutil.which("aws") is None or shutil.which("openssl") is None,
    reason="needs the AWS CLI (the verify extra) and openssl on PATH",
)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture
def rig(tmp_path: Path, moto_server: MotoServer, syslog: SyslogSink) -> TlsRig:
    return TlsRig(tmp_path, moto_server.url, syslog)


@pytest.fixture
def served(rig: TlsRig, pki: Pki) -> Iterator[tuple[str, Issued]]:
    """Item `web` already serving a good version (first run done, calls cleared)."""
    leaf = pki.leaf(HOST)
    secret = rig.secret(pki.bundle(leaf))
    rig.item("web", secret, names=HOST)
    first = rig.run()
    assert first.rc == 0, first.stderr
    rig.clear_calls()
    yield secret, leaf


def pem_blocks(text: str) -> list[str]:
    blocks, current = [], []
    for line in text.splitlines():
        current.append(line)
        if line.startswith("-----END "):
            blocks.append("\n".join(current) + "\n")
            current = []
    return blocks


def test_valid_secret_is_written_in_haproxy_order_and_reloaded_once(rig: TlsRig, pki: Pki) -> None:
    leaf = pki.leaf(HOST, "api.example.com")
    rig.item("web", rig.secret(pki.bundle(leaf)), names=f"{HOST} api.example.com")

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "changed web\n"), result.stderr
    pem = rig.pem("web")
    st = pem.stat()
    assert st.st_mode & 0o777 == 0o600
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    assert pem_blocks(pem.read_text()) == [
        leaf.cert_pem,
        pki.intermediate.cert_pem,
        pki.root.cert_pem,
        leaf.key_pem,
    ]
    assert rig.call_log() == [CHECK, "systemctl is-active --quiet haproxy", RELOAD]
    assert not (rig.out / "web.pem.previous").exists()
    assert any("installed a new version" in m for m in result.log), result.log
    m = rig.metrics()
    assert m['hacompile_tls_sync_ok{name="web"}'] == 1
    assert m['hacompile_tls_rejected_total{name="web"}'] == 0
    assert m[f'hacompile_tls_serving_info{{name="web",sha256="{leaf.fingerprint}"}}'] == 1
    expiry = m['hacompile_tls_certificate_expiry_timestamp_seconds{name="web"}']
    assert expiry == int(leaf.cert.not_valid_after_utc.timestamp())
    # now, not the module's NOW (taken at import, maybe half an hour earlier in a full run)
    assert abs(m['hacompile_tls_last_change_timestamp_seconds{name="web"}'] - time.time()) < 600


def test_second_run_is_unchanged_and_does_not_reload(
    rig: TlsRig, served: tuple[str, Issued]
) -> None:
    before = rig.metrics()['hacompile_tls_last_change_timestamp_seconds{name="web"}']

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "unchanged web\n"), result.stderr
    assert rig.call_log() == []
    assert rig.metrics()['hacompile_tls_last_change_timestamp_seconds{name="web"}'] == before


def test_new_version_replaces_the_file_and_reloads(
    rig: TlsRig, pki: Pki, served: tuple[str, Issued]
) -> None:
    secret, old = served
    new = pki.leaf(HOST)
    rig.put(secret, pki.bundle(new))

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "changed web\n"), result.stderr
    assert pem_blocks(rig.pem("web").read_text())[0] == new.cert_pem
    assert rig.call_log() == [CHECK, "systemctl is-active --quiet haproxy", RELOAD]
    m = rig.metrics()
    assert f'hacompile_tls_serving_info{{name="web",sha256="{new.fingerprint}"}}' in m
    assert f'hacompile_tls_serving_info{{name="web",sha256="{old.fingerprint}"}}' not in m


def _bad_bundle(case: str, pki: Pki) -> tuple[str, str]:
    """A bad version of the `web` secret and the reason the script must give."""
    if case == "key-mismatch":
        return pki.bundle(pki.leaf(HOST), key=pki.leaf(HOST)), "key does not match any certificate"
    if case == "expired-leaf":
        leaf = pki.leaf(HOST, not_before=NOW - 30 * DAY, not_after=NOW - DAY)
        return pki.bundle(leaf), "certificate has expired"
    if case == "missing-intermediate":
        leaf = pki.leaf(HOST)
        return leaf.key_pem + leaf.cert_pem + pki.root.cert_pem, "unable to get local issuer"
    if case == "names-not-covered":
        return pki.bundle(pki.leaf("other.example.com")), f"does not cover {HOST}"
    if case == "two-keys":
        leaf = pki.leaf(HOST)
        return pki.bundle(leaf) + pki.leaf(HOST).key_pem, "2 private keys"
    if case == "no-certificate":
        return pki.leaf(HOST).key_pem, "no certificate"
    if case == "garbage":
        return "not a pem at all\n", "no certificate"
    if case == "truncated":
        return pki.bundle(pki.leaf(HOST))[:-40], "malformed PEM"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "key-mismatch",
        "expired-leaf",
        "missing-intermediate",
        "names-not-covered",
        "two-keys",
        "no-certificate",
        "garbage",
        "truncated",
    ],
)
def test_bad_version_is_rejected_and_the_old_file_keeps_serving(
    rig: TlsRig, pki: Pki, served: tuple[str, Issued], case: str
) -> None:
    secret, _ = served
    old = rig.pem("web").read_bytes()
    bad, reason = _bad_bundle(case, pki)
    rig.put(secret, bad)

    result = rig.run()

    assert result.rc == EX_REJECTED, result.stderr
    assert result.stdout.startswith("rejected web: "), result.stdout
    assert reason in result.stdout
    assert any(reason in m and "rejected" in m for m in result.log), result.log
    assert rig.pem("web").read_bytes() == old
    assert rig.call_log() == []
    m = rig.metrics()
    assert m['hacompile_tls_sync_ok{name="web"}'] == 0
    assert m['hacompile_tls_rejected_total{name="web"}'] == 1
    assert rig.run().rc == EX_REJECTED  # the counter persists across runs
    assert rig.metrics()['hacompile_tls_rejected_total{name="web"}'] == 2


def test_first_run_with_a_bad_secret_leaves_no_file_and_exits_66(rig: TlsRig, pki: Pki) -> None:
    rig.item("web", rig.secret(pki.bundle(pki.leaf(HOST), key=pki.leaf(HOST))))

    result = rig.run()

    assert result.rc == EX_NO_FILE, result.stderr
    assert result.stdout == "rejected web: key does not match any certificate\n"
    assert not rig.pem("web").exists()
    assert list(rig.out.iterdir()) == []
    assert rig.call_log() == []
    m = rig.metrics()
    assert m['hacompile_tls_sync_ok{name="web"}'] == 0
    assert not any(k.startswith("hacompile_tls_serving_info") for k in m)


def test_missing_secret_is_a_failed_fetch(rig: TlsRig, served: tuple[str, Issued]) -> None:
    rig.item("web", "/hacompile/tls/does-not-exist", names=HOST)

    result = rig.run()

    assert result.rc == EX_REJECTED, result.stderr
    assert "fetch from secretsmanager failed" in result.stdout
    assert "ResourceNotFoundException" in result.stdout


def test_ssm_secure_string_and_ca_kind(rig: TlsRig, pki: Pki) -> None:
    leaf = pki.leaf(HOST)
    rig.item("web", rig.secret(pki.bundle(leaf), store="ssm"), store="ssm", names=HOST)
    other = make_pki("Client Root")
    ca_pem = pki.root.cert_pem + other.root.cert_pem
    rig.item("clients", rig.secret(ca_pem, store="ssm"), kind="ca", store="ssm")

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "changed clients\nchanged web\n"), result.stderr
    assert pem_blocks(rig.pem("web").read_text())[0] == leaf.cert_pem
    assert rig.pem("clients").read_text() == ca_pem
    assert rig.pem("clients").stat().st_mode & 0o777 == 0o600
    assert rig.call_log().count(RELOAD) == 1  # one reload for both
    m = rig.metrics()
    fp = pki.root.fingerprint
    assert m[f'hacompile_tls_serving_info{{name="clients",sha256="{fp}"}}'] == 1
    expiry = min(c.cert.not_valid_after_utc for c in (pki.root, other.root))
    assert m['hacompile_tls_certificate_expiry_timestamp_seconds{name="clients"}'] == int(
        expiry.timestamp()
    )


@pytest.mark.parametrize(
    ("case", "reason"),
    [("key", "must not hold a private key"), ("expired", "has expired"), ("empty", "no cert")],
)
def test_bad_ca_bundle_is_rejected(rig: TlsRig, pki: Pki, case: str, reason: str) -> None:
    if case == "key":
        value = pki.root.cert_pem + pki.root.key_pem
    elif case == "expired":
        old = issue("Old Root", ca=True, not_before=NOW - 9 * DAY, not_after=NOW - DAY)
        value = pki.root.cert_pem + old.cert_pem
    else:
        value = "\n"
    rig.item("clients", rig.secret(value), kind="ca")

    result = rig.run()

    assert result.rc == EX_NO_FILE, result.stderr
    assert reason in result.stdout
    assert not rig.pem("clients").exists()


def test_chain_can_end_in_the_system_ca_bundle(rig: TlsRig, pki: Pki) -> None:
    leaf = pki.leaf(HOST)
    system_ca = rig.root / "system-ca.crt"
    system_ca.write_text(pki.root.cert_pem)
    rig.item("web", rig.secret(leaf.key_pem + leaf.cert_pem + pki.intermediate.cert_pem))

    without = rig.run()
    with_ca = rig.run(env={"HACOMPILE_TLS_SYSTEM_CA": str(system_ca)})

    assert without.rc == EX_NO_FILE, without.stderr
    assert "no trust anchor" in without.stdout
    assert (with_ca.rc, with_ca.stdout) == (0, "changed web\n"), with_ca.stderr


def test_wildcard_name_needs_a_wildcard_certificate(rig: TlsRig, pki: Pki) -> None:
    rig.item("a", rig.secret(pki.bundle(pki.leaf("*.example.com"))), names="*.example.com")
    rig.item("b", rig.secret(pki.bundle(pki.leaf(HOST))), names="*.example.com")

    result = rig.run("--no-reload")

    assert result.stdout == "changed a\nrejected b: the certificate does not cover *.example.com\n"
    assert result.rc == EX_NO_FILE


def test_failing_haproxy_check_restores_the_previous_version(
    rig: TlsRig, pki: Pki, served: tuple[str, Issued]
) -> None:
    secret, old_leaf = served
    old = rig.pem("web").read_bytes()
    rig.put(secret, pki.bundle(pki.leaf(HOST)))
    (rig.bin / "check-fails").touch()

    result = rig.run()

    assert result.rc == EX_REJECTED, result.stderr
    assert result.stdout.startswith("rejected web: haproxy -c rejected")
    assert rig.pem("web").read_bytes() == old
    assert not (rig.out / "web.pem.previous").exists()
    assert rig.call_log() == [CHECK]
    assert any("bad config" in m for m in result.log), result.log
    m = rig.metrics()
    assert m['hacompile_tls_sync_ok{name="web"}'] == 0
    assert m['hacompile_tls_rejected_total{name="web"}'] == 1
    assert f'hacompile_tls_serving_info{{name="web",sha256="{old_leaf.fingerprint}"}}' in m

    (rig.bin / "check-fails").unlink()
    again = rig.run()
    assert (again.rc, again.stdout) == (0, "changed web\n"), again.stderr  # retried next time


def test_failing_haproxy_check_on_first_deploy_leaves_no_file(rig: TlsRig, pki: Pki) -> None:
    rig.item("web", rig.secret(pki.bundle(pki.leaf(HOST))))
    (rig.bin / "check-fails").touch()

    result = rig.run()

    assert result.rc == EX_NO_FILE, result.stderr
    assert result.stdout.startswith("rejected web: haproxy -c rejected")
    assert list(rig.out.iterdir()) == []


def test_failing_reload_restores_the_previous_version(
    rig: TlsRig, pki: Pki, served: tuple[str, Issued]
) -> None:
    secret, _ = served
    old = rig.pem("web").read_bytes()
    rig.put(secret, pki.bundle(pki.leaf(HOST)))
    (rig.bin / "reload-fails").touch()

    result = rig.run()

    assert result.rc == EX_REJECTED, result.stderr
    assert "reload of haproxy failed" in result.stdout
    assert rig.pem("web").read_bytes() == old


def test_inactive_service_is_neither_reloaded_nor_started(
    rig: TlsRig, pki: Pki, served: tuple[str, Issued]
) -> None:
    secret, _ = served
    rig.put(secret, pki.bundle(pki.leaf(HOST)))
    (rig.bin / "active").unlink()

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "changed web\n"), result.stderr
    assert rig.call_log() == [CHECK, "systemctl is-active --quiet haproxy"]


def test_no_reload_writes_without_checking_or_reloading(rig: TlsRig, pki: Pki) -> None:
    rig.item("web", rig.secret(pki.bundle(pki.leaf(HOST))), names=HOST)

    result = rig.run("--no-reload")

    assert (result.rc, result.stdout) == (0, "changed web\n"), result.stderr
    assert rig.pem("web").exists()
    assert rig.call_log() == []


def test_interrupted_change_is_finished_by_the_next_run(
    rig: TlsRig, served: tuple[str, Issued]
) -> None:
    """A run killed between rename and reload leaves NAME.pem.previous: reload then."""
    os.link(rig.pem("web"), rig.out / "web.pem.previous")

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "changed web\n"), result.stderr
    assert rig.call_log()[-1] == RELOAD
    assert not (rig.out / "web.pem.previous").exists()


def test_nothing_secret_reaches_stdout_stderr_or_the_log(rig: TlsRig, pki: Pki) -> None:
    good, other = pki.leaf(HOST), pki.leaf(HOST)
    rig.item("good", rig.secret(pki.bundle(good)))
    rig.item("mismatch", rig.secret(pki.bundle(pki.leaf(HOST), key=other)))
    rig.item("expired", rig.secret(pki.bundle(pki.leaf(HOST, not_after=NOW - DAY))))

    result = rig.run()

    assert result.rc == EX_NO_FILE
    text = result.stdout + result.stderr + "\n".join(result.log)
    for issued in (good, other):
        body = issued.key_body
        assert body[:40] not in text
        assert body[-40:] not in text
    assert "PRIVATE KEY" not in text


def test_unchanged_file_gets_its_mode_and_group_back(
    rig: TlsRig, served: tuple[str, Issued]
) -> None:
    rig.pem("web").chmod(0o644)

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "unchanged web\n"), result.stderr
    assert rig.pem("web").stat().st_mode & 0o777 == 0o600


def test_files_belong_to_haproxys_group(rig: TlsRig, pki: Pki) -> None:
    others = [g for g in os.getgroups() if g != os.getgid()]
    if os.geteuid() == 0:
        others.append(grp.getgrnam("daemon").gr_gid)
    if not others:
        pytest.skip("needs root or a supplementary group to chgrp to")
    group = grp.getgrgid(others[-1])
    conf = rig.conf / "sync.conf"
    conf.write_text(conf.read_text().replace(f"GROUP='{rig.group}'", f"GROUP='{group.gr_name}'"))
    rig.item("web", rig.secret(pki.bundle(pki.leaf(HOST))))

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "changed web\n"), result.stderr
    assert rig.pem("web").stat().st_gid == group.gr_gid


def test_self_signed_leaf_is_its_own_anchor(rig: TlsRig) -> None:
    leaf = issue(HOST, names=[HOST])
    rig.item("web", rig.secret(leaf.key_pem + leaf.cert_pem), names=HOST)

    result = rig.run()

    assert (result.rc, result.stdout) == (0, "changed web\n"), result.stderr
    assert pem_blocks(rig.pem("web").read_text()) == [leaf.cert_pem, leaf.key_pem]


def test_under_systemd_the_log_goes_to_syslog_only(rig: TlsRig, pki: Pki) -> None:
    """systemd points stderr at the journal (JOURNAL_STREAM), where logger's lines land too."""
    del rig.env["HACOMPILE_TLS_STDERR"]
    rig.item("web", rig.secret(pki.bundle(pki.leaf(HOST))))

    result = rig.run(env={"JOURNAL_STREAM": "8:12345"})

    assert (result.rc, result.stdout, result.stderr) == (0, "changed web\n", "")
    assert any("reloaded haproxy" in m for m in result.log), result.log


def test_state_and_output_files_are_private(rig: TlsRig, served: tuple[str, Issued]) -> None:
    for path in rig.out.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path
    assert (rig.root / "metrics" / "tls.prom").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong-owner", "owned by uid"),
        ("group-writable", "group/world-writable"),
        ("dir-world-writable", "group/world-writable"),
        ("symlink", "symlink"),
        ("command-substitution", "not KEY='value'"),
        ("unknown-key", "not KEY='value'"),
        ("bad-kind", "KIND 'key'"),
        ("bad-item-name", "invalid item name"),
        ("no-items", "no items"),
        ("missing-sync-conf", "does not exist"),
        ("unknown-group", "does not exist"),
    ],
)
def test_untrusted_or_bad_configuration_is_refused(
    rig: TlsRig, pki: Pki, case: str, reason: str
) -> None:
    rig.item("web", rig.secret(pki.bundle(pki.leaf(HOST))))
    env: dict[str, str] = {}
    web = rig.conf / "web.env"
    if case == "wrong-owner":
        env["HACOMPILE_TLS_TRUST_UID"] = str(os.getuid() + 1)
    elif case == "group-writable":
        web.chmod(0o664)
    elif case == "dir-world-writable":
        rig.conf.chmod(0o777)
    elif case == "symlink":
        web.rename(rig.root / "web.env")
        web.symlink_to(rig.root / "web.env")
    elif case == "command-substitution":
        web.write_text(web.read_text() + "NAMES=$(touch /tmp/pwned)\n")
    elif case == "unknown-key":
        web.write_text(web.read_text() + "PATH='/tmp'\n")
    elif case == "bad-kind":
        web.write_text(web.read_text().replace("'certificate'", "'key'"))
    elif case == "bad-item-name":
        web.rename(rig.conf / "Web.env")
    elif case == "no-items":
        web.unlink()
    elif case == "missing-sync-conf":
        (rig.conf / "sync.conf").unlink()
    elif case == "unknown-group":
        conf = rig.conf / "sync.conf"
        conf.write_text(conf.read_text().replace(f"GROUP='{rig.group}'", "GROUP='nogroup-hc'"))

    result = rig.run(env=env)

    assert result.rc == EX_CONFIG, result.stderr
    assert reason in result.stderr
    assert any(reason in m for m in result.log), result.log
    assert list(rig.out.iterdir()) == []
    assert rig.call_log() == []


@pytest.mark.parametrize("args", [("--reload",), ("--no-reload", "x"), ("web",)])
def test_usage(rig: TlsRig, args: tuple[str, ...]) -> None:
    result = rig.run(*args)

    assert result.rc == EX_USAGE, result.stderr
    assert "usage" in result.stderr
