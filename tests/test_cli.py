"""The CLI as users run it: exit codes, messages on stderr, nothing lost on disk (the real entry
point as a subprocess where that is the point, in-process `invoke_cli` elsewhere)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT, invoke_cli, run_cli

BLOG = "blueprints/blog-aws-keepalived.yaml"


def test_build_writes_the_bundle(tmp_path: Path) -> None:
    result = run_cli("build", BLOG, "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "terraform" / "us-east-1" / "main.tf").is_file()
    assert (tmp_path / "out" / "terraform" / "modules" / "haproxy-ha" / "instances.tf").is_file()
    assert (tmp_path / "out" / "ansible" / "site.yml").is_file()
    assert "written" in result.stdout


def test_validate_valid_and_invalid(tmp_path: Path) -> None:
    ok = run_cli("validate", BLOG)
    assert ok.returncode == 0 and "valid" in ok.stdout
    bad = tmp_path / "ha.yaml"
    bad.write_text("version: 1\nname: xy\nregions: []\naccess: {ssh_key_name: k, ssh_cidrs: []}\n")
    result = run_cli("validate", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{bad}:3:10: error: regions: "), first


def test_validate_writes_nothing(tmp_path: Path) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    invoke_cli("validate", str(ROOT / BLOG), cwd=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_failed_build_keeps_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke_cli("build", BLOG, "-o", str(out)).returncode == 0
    keep = out / "notes.txt"
    keep.write_text("mine")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\n")
    assert invoke_cli("build", str(bad), "-o", str(out)).returncode == 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_schema_is_json_schema() -> None:
    result = invoke_cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert {"version", "name", "regions", "access"} <= set(schema["required"])


def test_missing_file_is_a_located_error() -> None:
    result = invoke_cli("validate", "nope.yaml")
    assert result.returncode == 2
    assert result.stderr.startswith("nope.yaml:1:1: error: no such file")


@pytest.mark.skipif(
    os.environ.get("HACOMPILE_SKIP_INSTALL_TEST") == "1", reason="explicitly disabled"
)
def test_non_editable_install_builds_from_the_wheel(tmp_path: Path) -> None:
    """pip install . into a fresh venv: the templates must ship inside the wheel."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = tmp_path / "out"
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(env_dir / "bin" / "hacompile"), "build", str(ROOT / BLOG), "-o", str(out)],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    where = subprocess.run(
        [str(py), "-c", "import hacompile; print(hacompile.__file__)"],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(env_dir) in where, "must run the installed copy, not the checkout"
    golden = ROOT / "tests" / "golden" / "blog-aws-keepalived"
    for path in golden.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(golden)).read_bytes() == path.read_bytes()
    assert sys.version_info >= (3, 11)
