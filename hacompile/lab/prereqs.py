"""What `hacompile lab` needs on this machine, checked before it builds or creates anything.

Why up front: unchecked, each missing piece surfaced minutes into a run, in the wrong words.
Without moto the cloud host died after the namespaces existed, and the error pointed at a log
that the teardown had just removed; without Ansible the run stopped after the namespaces
existed; without the AWS CLI venv, after the bundle was built. So the lab asks first, reports
every missing piece at once, and names each with the exact command that installs it. This
module only returns values; hacompile.cli prints them and exits.

Where each piece comes from:
- Debian packages: the daemons, the namespace tools and what the bundle's scripts call;
- the `lab` extra (`pip install 'hacompile[lab]'`): moto's server and boto3, which run in
  this Python (the cloud host is `python -m hacompile.lab.cloud` with this interpreter);
- a root-owned venv of Debian's python3 for the AWS CLI, because the EIP scripts run it as the
  unprivileged script user, who cannot execute one under /root (.ci/install-lab.sh makes it);
- Ansible, found where `hacompile verify` finds it (hacompile.verify.tools: the `ansible` venv
  under $HACOMPILE_TOOLS_DIR, then PATH), because the lab renders configs with the roles.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hacompile.verify.base import Unavailable
from hacompile.verify.tools import executable, tools_dir

__all__ = ["AWSCLI", "Missing", "Prerequisites", "awscli_install", "check_prerequisites"]

AWSCLI = Path(os.environ.get("HACOMPILE_LAB_AWSCLI", "/opt/hacompile-lab/awscli/bin/aws"))
AWSCLI_REQUIREMENT = "awscli==1.45.11"  # as in pyproject's verify extra and install-lab.sh
ANSIBLE_REQUIREMENT = "ansible==12.3.0"  # as in .ci/install-verify.sh
DEBIAN_PYTHON = "/usr/bin/python3"
APT = "apt-get install -y --no-install-recommends"
INSTALL_SCRIPT = (
    "from a source checkout, `sudo sh .ci/install-verify.sh && sudo sh "
    ".ci/install-lab.sh` installs all of it, without starting keepalived or "
    "haproxy on this host"
)

# command -> (Debian package, what the lab needs it for)
COMMANDS: dict[str, tuple[str, str]] = {
    "keepalived": ("keepalived", "VRRP on every LB"),
    "haproxy": ("haproxy", "the load balancer on every LB"),
    "ip": ("iproute2", "namespaces, veths, addresses and routes"),
    "nft": ("nftables", "the edge's EIP DNAT and the split-brain fault"),
    "unshare": ("util-linux", "a PID and mount namespace per LB"),
    "nsenter": ("util-linux", "starting and stopping processes inside an LB"),
    "setpriv": ("util-linux", "running the EIP scripts as the script user"),
    "flock": ("util-linux", "the EIP claim script's lock"),
    "mount": ("mount", "bind mounts inside each LB"),
    "sysctl": ("procps", "forwarding and unprivileged ping in the namespaces"),
    "pgrep": ("procps", "the process checks"),
    "curl": ("curl", "IMDSv2 calls in the bundle's scripts"),
    "ping": ("iputils-ping", "the gateway check"),
    "logger": ("bsdutils", "logging in the bundle's scripts"),
}
CLEANUP_COMMANDS = ("ip",)  # --cleanup only lists and deletes namespaces
# --booted also builds and boots Debian hosts and deploys them over SSH
BOOTED_COMMANDS: dict[str, tuple[str, str]] = {
    "mmdebstrap": ("mmdebstrap", "building the booted hosts' Debian 12 image"),
    "ssh": ("openssh-client", "Ansible's connection to the booted hosts"),
    "ssh-keygen": ("openssh-client", "the deploy key and each host's host keys"),
    "dpkg-deb": ("dpkg", "indexing the hosts' local apt repository"),
    "du": ("coreutils", "measuring each host's disk"),
}

# import name -> what it is for; all come with the `lab` extra
PYTHON_MODULES: dict[str, str] = {
    "moto": "the lab's EC2 API, moto's server",
    "flask": "moto's server, from moto[server]",
    "flask_cors": "moto's server, from moto[server]",
    "boto3": "seeding and reading the lab's EC2 API",
    "cryptography": "the lab's own CA for specs with `tls` (hacompile.lab.tlsca)",
}


@dataclass(frozen=True)
class Missing:
    """One prerequisite that is not there: its name, what the lab needs it for, and the exact
    command that installs it."""

    name: str
    needed_for: str
    install: str

    def line(self) -> str:
        return f"{self.name} ({self.needed_for}): {self.install}"


@dataclass(frozen=True)
class Prerequisites:
    """Whether the lab can run here: a refusal (not Linux, not root) and what is missing."""

    refusal: str | None = None
    missing: tuple[Missing, ...] = ()

    @property
    def ok(self) -> bool:
        return self.refusal is None and not self.missing

    def message(self) -> str:
        """Every problem, one per line; empty when ok."""
        lines = [self.refusal] if self.refusal else []
        if self.missing:
            count = len(self.missing)
            lines.append(
                f"hacompile lab is missing {count} prerequisite"
                f"{'s' if count != 1 else ''}, each with the command that installs it:"
            )
            lines += [f"  {m.line()}" for m in self.missing]
            if count > 1:
                lines.append(f"  all at once: {_all_at_once(self.missing)}")
            lines.append(f"  ({INSTALL_SCRIPT})")
        return "\n".join(lines)


def check_prerequisites(
    *, cleanup: bool = False, path: str | None = None, booted: bool = False
) -> Prerequisites:
    """Can `hacompile lab` (or, with `cleanup`, `hacompile lab --cleanup`) run here?

    `path` is where commands are looked for; by default $PATH plus /usr/sbin and /sbin (sudo
    and some root shells lack them). Ansible is looked for like `hacompile verify` does.
    """
    if platform.system() != "Linux":
        return Prerequisites("hacompile lab needs Linux (network, PID and mount namespaces)")
    refusal = None
    if os.geteuid() != 0:
        refusal = "hacompile lab needs root (it creates namespaces and runs keepalived)"
    search = path if path is not None else os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    names = CLEANUP_COMMANDS if cleanup else tuple(COMMANDS)
    missing = [
        Missing(cmd, COMMANDS[cmd][1], f"{APT} {COMMANDS[cmd][0]}")
        for cmd in names
        if shutil.which(cmd, path=search) is None
    ]
    if not cleanup:
        missing += _python_modules() + _awscli() + _ansible()
    if booted and not cleanup:
        missing += [
            Missing(cmd, why, f"{APT} {package}")
            for cmd, (package, why) in BOOTED_COMMANDS.items()
            if shutil.which(cmd, path=search) is None
        ]
        missing += _nspawn(search) + _ansible_boto3()
    return Prerequisites(refusal, tuple(missing))


def _nspawn(search: str) -> list[Missing]:
    from hacompile.lab.booted.image import NSPAWN_DIR

    if (
        shutil.which("systemd-nspawn", path=search)
        or (NSPAWN_DIR / "usr" / "bin" / "systemd-nspawn").is_file()
    ):
        return []
    return [
        Missing(
            "systemd-nspawn",
            "booting the hosts (systemd as PID 1)",
            f'cd "$(mktemp -d)" && apt-get download systemd-container && dpkg -x '
            f"systemd-container_*.deb {NSPAWN_DIR} (unpacked: installing it would "
            "upgrade this machine's systemd)",
        )
    ]


def _ansible_boto3() -> list[Missing]:
    """The bundle's SSM tasks run on the controller, in Ansible's own Python."""
    try:
        python = executable("ansible-playbook").parent / "python"
    except Unavailable:
        return []  # _ansible() names Ansible itself
    if not python.is_file():
        return []  # Ansible from PATH: its Python is not ours to judge
    ok = (
        subprocess.run(
            [str(python), "-c", "import boto3"], capture_output=True, timeout=60, check=False
        ).returncode
        == 0
    )
    return (
        []
        if ok
        else [
            Missing(
                f"boto3 for {python}",
                "the bundle's SSM password tasks",
                f"{python} -m pip install 'boto3>=1.34'",
            )
        ]
    )


def awscli_install() -> str:
    """The command that creates the AWS CLI venv the lab uses (at AWSCLI)."""
    venv = AWSCLI.parent.parent
    return f"{DEBIAN_PYTHON} -m venv {venv} && {venv}/bin/pip install '{AWSCLI_REQUIREMENT}'"


def _python_modules() -> list[Missing]:
    install = f"{sys.executable} -m pip install 'hacompile[lab]'"
    return [
        Missing(f"Python module {name}", why, install)
        for name, why in PYTHON_MODULES.items()
        if not _importable(name)
    ]


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or a module without a spec
        return False


def _awscli() -> list[Missing]:
    if AWSCLI.is_file() and os.access(AWSCLI, os.X_OK):
        return []
    found = [
        Missing(str(AWSCLI), "the AWS CLI the EIP scripts run as the script user", awscli_install())
    ]
    try:
        venv_ok = (
            subprocess.run(
                [DEBIAN_PYTHON, "-c", "import ensurepip, venv"],
                capture_output=True,
                timeout=30,
                check=False,
            ).returncode
            == 0
        )
    except OSError:
        venv_ok = False
    if not venv_ok:
        found.insert(
            0,
            Missing(
                f"{DEBIAN_PYTHON} with venv",
                "creating the AWS CLI venv",
                f"{APT} python3 python3-venv",
            ),
        )
    return found


def _ansible() -> list[Missing]:
    try:
        executable("ansible-playbook")
    except Unavailable:
        venv = tools_dir() / "ansible"
        return [
            Missing(
                "ansible-playbook",
                "rendering the LB configs with the bundle's roles",
                f"python3 -m venv {venv} && {venv}/bin/pip install '{ANSIBLE_REQUIREMENT}'",
            )
        ]
    return []


def _all_at_once(missing: tuple[Missing, ...]) -> str:
    """One command line for everything: the apt packages merged, the rest in order."""
    packages: list[str] = []
    others: list[str] = []
    for item in missing:
        if item.install.startswith(APT + " "):
            packages += [p for p in item.install[len(APT) + 1 :].split() if p not in packages]
        elif item.install not in others:
            others.append(item.install)
    steps = [f"{APT} {' '.join(packages)}"] if packages else []
    return " && ".join(steps + others)
