"""The Ansible-installed scripts are POSIX sh and shellcheck-clean (CI installs shellcheck)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from scriptlab import EIP_CLAIM, SECONDARY_IPS, TLS_SYNC

SCRIPTS = [EIP_CLAIM, SECONDARY_IPS, TLS_SYNC]


@pytest.mark.tools
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_clean(script: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is required (apt-get install shellcheck)"
    proc = subprocess.run(
        [shellcheck, "-s", "sh", str(script)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_posix_sh_without_blanket_disables(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n")
    assert "set -eu" in text
    assert "shellcheck disable" not in text
    assert script.stat().st_mode & 0o111, "scripts must be executable"
    proc = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, timeout=10)
    assert proc.returncode == 0, proc.stderr
