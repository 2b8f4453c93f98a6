"""The booted hosts' root filesystem: Debian 12 built once by mmdebstrap, cached, shared.

Why Debian 12 and not Ubuntu 24.04 (what the bundle targets): only Debian's archive is
reachable from these machines. Both are systemd + apt + OpenSSH distributions with the same
haproxy/keepalived packaging; the differences that matter are said where the lab runs.

Why a cache: the image takes 20-90 s to build and never changes for a given package list, so
it is built once per list (the cache key) and every host gets a copy-on-write overlay of it.
The image mimics what a cloud image gives a deployment tool: an `ubuntu` user with
passwordless sudo (cloud-init's default user), sshd, python3 for Ansible. SSH host keys are
removed from the image and made per host, as cloud-init does on first boot.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hacompile.lab.netns import LabError

SUITE = "bookworm"
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",
    "sudo",
    "iproute2",
    "ca-certificates",
)
LOGIN_USER = "ubuntu"
NSPAWN_DIR = Path(os.environ.get("HACOMPILE_LAB_NSPAWN_DIR", "/opt/hacompile-lab/nspawn"))
# What the image does beyond installing PACKAGES; part of the cache key.
_HOOKS = (
    f'chroot "$1" useradd --create-home --shell /bin/bash --groups sudo {LOGIN_USER}',
    f'echo "{LOGIN_USER} ALL=(ALL) NOPASSWD:ALL" > "$1/etc/sudoers.d/90-cloud-init-users"',
    'chmod 0440 "$1/etc/sudoers.d/90-cloud-init-users"',
    'rm -f "$1"/etc/ssh/ssh_host_*',
    # The machine's own resolver is unreachable from a host; the lab writes resolv.conf.
    'rm -f "$1/etc/resolv.conf"',
)


def cache_dir() -> Path:
    """Where images and mirrors are kept between runs (HACOMPILE_LAB_CACHE overrides)."""
    return Path(os.environ.get("HACOMPILE_LAB_CACHE", "/var/cache/hacompile-lab"))


def nspawn() -> Path:
    """systemd-nspawn: on PATH, or unpacked from Debian's systemd-container by
    .ci/install-lab.sh (installing that package would upgrade this machine's systemd)."""
    found = shutil.which("systemd-nspawn")
    if found:
        return Path(found)
    unpacked = NSPAWN_DIR / "usr" / "bin" / "systemd-nspawn"
    if unpacked.is_file():
        return unpacked
    raise LabError(
        "systemd-nspawn not found: run .ci/install-lab.sh (it unpacks Debian's "
        f"systemd-container into {NSPAWN_DIR})"
    )


def image_key() -> str:
    text = "\n".join((SUITE, *PACKAGES, *_HOOKS))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def base_image() -> Path:
    """The cached root filesystem (built on first use); never written to by a run."""
    root = cache_dir() / f"rootfs-{image_key()}"
    if (root / ".hacompile-complete").is_file():
        return root
    if shutil.which("mmdebstrap") is None:
        raise LabError("mmdebstrap not found: apt-get install mmdebstrap (.ci/install-lab.sh)")
    cache_dir().mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="rootfs-", dir=cache_dir()))
    cmd = [
        "mmdebstrap",
        "--variant=minbase",
        "--include=" + ",".join(PACKAGES),
        *(f"--customize-hook={hook}" for hook in _HOOKS),
        SUITE,
        str(tmp / "root"),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            raise LabError(f"mmdebstrap failed ({proc.returncode}): {proc.stderr[-2000:]}")
        (tmp / "root" / ".hacompile-complete").write_text(" ".join(cmd) + "\n")
        shutil.rmtree(root, ignore_errors=True)
        (tmp / "root").rename(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
