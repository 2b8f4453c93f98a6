"""`hacompile lab` checks what it needs before it does anything, and names each missing piece
with the exact command that installs it; a cloud host that fails quotes its logs, because the
teardown removes the directory they were in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hacompile.lab import prereqs, setup_cloud
from hacompile.lab.netns import LabError
from hacompile.lab.prereqs import check_prerequisites
from hacompile.lab.setup import Lab
from hacompile.lab.topology import new_prefix
from hacompile.pipeline import compile_spec

REPO = Path(__file__).resolve().parents[2]
BLOG = REPO / "blueprints" / "blog-aws-keepalived.yaml"
APT = "apt-get install -y --no-install-recommends"

# What the lab runs, and the Debian package that brings it (written out here, not read from
# the module, so a wrong package name in the module fails this test).
DEBIAN = {
    "keepalived": "keepalived",
    "haproxy": "haproxy",
    "ip": "iproute2",
    "nft": "nftables",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "setpriv": "util-linux",
    "flock": "util-linux",
    "curl": "curl",
    "ping": "iputils-ping",
    "pgrep": "procps",
    "logger": "bsdutils",
}


def _by_name(ready: prereqs.Prerequisites) -> dict[str, str]:
    return {m.name: m.install for m in ready.missing}


def test_an_empty_path_names_every_command_with_its_debian_package(tmp_path: Path) -> None:
    ready = check_prerequisites(path=str(tmp_path))
    assert not ready.ok
    found = _by_name(ready)
    for command, package in DEBIAN.items():
        assert found.get(command) == f"{APT} {package}", command
    message = ready.message()
    for command in DEBIAN:
        assert re.search(rf"^  {re.escape(command)} \(.+\): {re.escape(APT)} ", message, re.M)
    everything = next(line for line in message.splitlines() if "all at once:" in line)
    assert all(f" {package}" in everything for package in set(DEBIAN.values()))


def test_missing_moto_and_boto3_name_the_lab_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("moto", "boto3", "flask"):
        monkeypatch.setitem(sys.modules, module, None)  # what an absent module looks like
    found = _by_name(check_prerequisites())
    for module in ("moto", "boto3", "flask"):
        assert found[f"Python module {module}"] == (
            f"{sys.executable} -m pip install 'hacompile[lab]'"
        )
    assert "Python module flask_cors" not in found


def test_missing_awscli_venv_and_ansible_name_their_venvs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = tmp_path / "lab" / "awscli" / "bin" / "aws"
    monkeypatch.setattr(prereqs, "AWSCLI", aws)
    monkeypatch.setenv("HACOMPILE_TOOLS_DIR", str(tmp_path / "tools"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = _by_name(check_prerequisites())
    venv = tmp_path / "lab" / "awscli"
    assert found[str(aws)] == (
        f"/usr/bin/python3 -m venv {venv} && {venv}/bin/pip install 'awscli==1.45.11'"
    )
    ansible = tmp_path / "tools" / "ansible"
    assert found["ansible-playbook"] == (
        f"python3 -m venv {ansible} && {ansible}/bin/pip install 'ansible==12.3.0'"
    )


def test_the_pins_it_names_are_the_ones_the_project_installs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert prereqs.AWSCLI_REQUIREMENT in project["optional-dependencies"]["verify"]
    assert prereqs.AWSCLI_REQUIREMENT in (REPO / ".ci" / "install-lab.sh").read_text()
    assert prereqs.ANSIBLE_REQUIREMENT in (REPO / ".ci" / "install-verify.sh").read_text()
    assert str(prereqs.AWSCLI).startswith("/opt/hacompile-lab/awscli/")  # install-lab.sh's


def test_cleanup_needs_only_ip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)
    monkeypatch.setattr(prereqs, "AWSCLI", tmp_path / "no" / "aws")
    assert check_prerequisites(cleanup=True).missing == ()
    assert _by_name(check_prerequisites(cleanup=True, path=str(tmp_path))) == {
        "ip": f"{APT} iproute2"
    }


def test_the_cli_checks_before_it_reads_the_spec(tmp_path: Path) -> None:
    """An interpreter without moto: `hacompile lab` must say so (and how to install it), not
    get as far as the spec, let alone namespaces."""
    code = (
        "import sys; sys.modules['moto'] = None; from hacompile.cli import main; "
        "sys.argv = ['hacompile', 'lab', 'no-such-spec.yaml']; main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Python module moto" in proc.stderr
    assert "-m pip install 'hacompile[lab]'" in proc.stderr
    assert "no-such-spec" not in proc.stderr + proc.stdout


def test_a_cloud_host_that_cannot_start_quotes_its_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real cloud host, run without a namespace, with an interpreter where moto's server
    cannot be imported: the error carries both logs' last lines (they are gone afterwards)."""
    shadow = tmp_path / "shadow" / "moto"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('moto is not installed (test)')\n")
    env = {"PYTHONPATH": f"{shadow.parent}{os.pathsep}{REPO}"}
    monkeypatch.setattr(setup_cloud, "in_netns", lambda ns, cmd: list(cmd))
    monkeypatch.setattr(setup_cloud, "py_env", lambda extra=None: {**os.environ, **env})
    monkeypatch.setenv("HACOMPILE_LAB_KEEP", "0")
    lab = Lab(compile_spec(BLOG).plan, tmp_path / "bundle", prefix=new_prefix())
    lab.dir.mkdir(parents=True)
    try:
        with pytest.raises(LabError) as caught:
            lab.start_cloud()
    finally:
        lab.close()
    message = str(caught.value)
    assert not lab.dir.exists()  # so a bare path to cloud.log would point at nothing
    assert "cloud.log: RuntimeError: moto.server exited during startup" in message
    assert "moto.log: " in message and "moto is not installed (test)" in message
