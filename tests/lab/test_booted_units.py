"""The booted lab's parts that need no host: the package list read from the roles, the
controller's resolver, the prerequisite check, the HAPEE stand-in script."""

from __future__ import annotations

import shutil
import socket
import struct
from pathlib import Path

import pytest

from hacompile.lab.booted import ami
from hacompile.lab.booted.mirror import wanted
from hacompile.lab.booted.serve import dns_answer
from hacompile.lab.prereqs import check_prerequisites
from hacompile.load import load
from hacompile.plan.build import build_plan
from hacompile.validate import validate

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"


def test_packages_come_from_the_roles() -> None:
    blog = wanted(GOLDEN / "blog-aws-keepalived" / "ansible", {})
    # HAPEE: the AMI ships haproxy and keepalived, so the roles install neither.
    assert "haproxy" not in blog.apt and "keepalived" not in blog.apt
    assert {"nginx", "curl", "python3-venv", "python3-packaging", "procps"} <= set(blog.apt)
    assert blog.pip == ("awscli==1.45.11",)
    three = wanted(GOLDEN / "three-lb-existing-backends" / "ansible", {})
    assert {"haproxy", "keepalived"} <= set(three.apt) and "nginx" not in three.apt


def test_a_package_a_role_gains_is_in_the_mirror(tmp_path: Path) -> None:
    project = tmp_path / "ansible"
    shutil.copytree(GOLDEN / "three-lb-existing-backends" / "ansible", project)
    tasks = project / "roles" / "haproxy" / "tasks" / "main.yml"
    tasks.write_text(
        tasks.read_text() + "\n- name: More\n  ansible.builtin.apt:\n"
        '    name: "{{ haproxy_extra_pkg }}"\n'
    )
    got = wanted(project, {"haproxy_extra_pkg": "socat"})
    assert "socat" in got.apt


def _query(name: str, qtype: int = 1) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return (
        struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        + labels
        + b"\0"
        + struct.pack("!HH", qtype, 1)
    )


def test_resolver_answers_lab_names_and_refuses_the_rest() -> None:
    names = {"app3.internal.example.com": "10.60.20.10"}
    reply = dns_answer(_query("App3.Internal.Example.com"), names)
    assert reply is not None
    ident, flags, _, answers = struct.unpack("!HHHH", reply[:8])
    assert ident == 0x1234 and flags & 0xF == 0 and answers == 1
    assert reply[-4:] == socket.inet_aton("10.60.20.10")
    missing = dns_answer(_query("pypi.org"), names)
    assert missing is not None and struct.unpack("!H", missing[2:4])[0] & 0xF == 3  # NXDOMAIN
    assert dns_answer(b"\x00\x01", names) is None


def test_booted_prerequisites_name_each_missing_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HACOMPILE_LAB_NSPAWN_DIR", str(tmp_path / "no-nspawn"))
    import importlib

    import hacompile.lab.booted.image as image

    importlib.reload(image)
    try:
        ready = check_prerequisites(path=str(tmp_path), booted=True)
    finally:
        monkeypatch.delenv("HACOMPILE_LAB_NSPAWN_DIR")
        importlib.reload(image)
    text = ready.message()
    for needle in (
        "mmdebstrap (building the booted hosts' Debian 12 image): apt-get install",
        "ssh-keygen",
        "dpkg-deb",
        "systemd-nspawn",
        "apt-get download systemd-container",
    ):
        assert needle in text, needle
    plain = check_prerequisites(path=str(tmp_path))
    assert "mmdebstrap" not in plain.message()


def test_hapee_stand_in_uses_the_flavours_names() -> None:
    spec = REPO / "blueprints" / "blog-aws-keepalived.yaml"
    plan = build_plan(validate(load(spec)).spec, spec.name)
    script = ami.hapee_script(plan.flavor)
    for needle in (
        plan.flavor.haproxy_service,
        plan.flavor.keepalived_service,
        plan.flavor.haproxy_binary,
        plan.flavor.keepalived_config,
        plan.flavor.haproxy_user,
        plan.flavor.haproxy_group,
    ):
        assert needle in script, needle
    community = build_plan(
        validate(load(REPO / "blueprints" / "fast-failover.yaml")).spec, "fast-failover.yaml"
    )
    assert ami.hapee_script(community.flavor) == ""
