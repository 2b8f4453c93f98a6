"""Fixtures for the shell scripts Ansible installs: a moto EC2, a fault proxy, an IMDS stub,
a syslog sink and throwaway network namespaces.

Network rule: everything talks to 127.0.0.1 or to a namespace created here; nothing is added to
the root namespace, every subprocess has a timeout, and every namespace and process started here
is removed in teardown, also when the test fails.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from scriptlab import ClaimRig, Netns, SyslogSink, stop_process

from hacompile.standins.ec2fixture import Ec2Lab, create_lab
from hacompile.standins.faultproxy import FaultProxy
from hacompile.standins.imds import ImdsInterface, ImdsStub, imds_metadata
from hacompile.standins.moto import MotoServer, aws_env


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def lab(moto_server: MotoServer) -> Ec2Lab:
    return create_lab(moto_server.url)  # a fresh VPC per test on the shared server


@pytest.fixture
def fault_proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    with FaultProxy(moto_server.url) as proxy:
        yield proxy


@pytest.fixture
def syslog() -> Iterator[SyslogSink]:
    sink = SyslogSink()
    try:
        yield sink
    finally:
        sink.close()


@pytest.fixture
def claim(
    tmp_path: Path, lab: Ec2Lab, fault_proxy: FaultProxy, syslog: SyslogSink
) -> Iterator[ClaimRig]:
    eni = lab.enis[0]
    metadata = imds_metadata(
        [ImdsInterface(eni.mac, eni.eni_id, (eni.primary_ip, *eni.slots), lab.subnet_cidr)]
    )
    eip_dir = tmp_path / "eip"
    eip_dir.mkdir(mode=0o755)
    eip_dir.chmod(0o755)
    with ImdsStub(metadata) as imds:
        rig = ClaimRig(lab, fault_proxy, imds, syslog, eip_dir, tmp_path / "run", tmp_path / "home")
        rig.home.mkdir()
        rig.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(rig.home),
            "LANG": "C.UTF-8",
            **aws_env(fault_proxy.url, lab.region),
            "HACOMPILE_EIP_DIR": str(eip_dir),
            "HACOMPILE_RUN_DIR": str(rig.run_dir),
            "HACOMPILE_IMDS_URL": imds.url,
            "HACOMPILE_EIP_TRUST_UID": str(os.getuid()),
            "HACOMPILE_LOG_SOCKET": syslog.path,
            "HACOMPILE_EIP_STDERR": "1",
            "HACOMPILE_EIP_BACKOFF_MS": "200",  # keep retry tests fast
            # moto 5.2.1 reports the ENI's primary IP for every association (see the script).
            "HACOMPILE_EIP_PRIVATE_IP_CHECK": "eni-only",
        }
        rig.write_config()
        yield rig


@pytest.fixture
def netns() -> Iterator[Netns]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.fail("iproute2 (ip) is required")
    ns = Netns(f"hc-test-{os.getpid()}-{secrets.token_hex(4)}")
    subprocess.run(["ip", "netns", "add", ns.name], check=True, timeout=10)
    try:
        ns.ip("link", "set", "lo", "up")
        yield ns
    finally:
        for proc in ns.procs:
            stop_process(proc)
        subprocess.run(["ip", "netns", "del", ns.name], check=False, timeout=10)
