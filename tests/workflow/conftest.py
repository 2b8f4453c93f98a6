"""Helpers for the workflow tests: snapshot a directory tree, build into a fresh one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hacompile.pipeline import compile_spec
from hacompile.render.bundle import Bundle
from tests.conftest import ROOT

BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
THREE = ROOT / "blueprints" / "three-lb-existing-backends.yaml"


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every entry under `root` (files with bytes and mode, directories, symlinks)."""
    out: dict[str, tuple[bytes, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = (str(path.readlink()).encode(), -1)
        elif path.is_dir():
            out[rel + "/"] = (b"", path.stat().st_mode & 0o777)
        else:
            out[rel] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return out


def bundle_of(spec: Path) -> Bundle:
    return compile_spec(spec).bundle


@pytest.fixture
def blog_copy(tmp_path: Path) -> Path:
    spec = tmp_path / "ha.yaml"
    spec.write_text(BLOG.read_text())
    return spec


def run_piped(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Like tests.conftest.run_cli, with stdin not a terminal even when pytest runs in one."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "hacompile", *args],
        cwd=cwd or ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
