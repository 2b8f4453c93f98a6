"""Every emitted file is well-formed for its consumer: HCL parses, YAML and JSON load, shell
scripts pass shellcheck, cloud-init payloads start with #cloud-config on column 0."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest
import yaml

from hacompile.pipeline import compile_spec
from hacompile.write import write
from tests.conftest import BLUEPRINTS


@pytest.fixture(scope="module", params=BLUEPRINTS, ids=[b.stem for b in BLUEPRINTS])
def bundle_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    write(compile_spec(request.param).bundle, out)
    return out


def test_every_tf_file_parses(bundle_dir: Path) -> None:
    files = sorted(bundle_dir.rglob("*.tf"))
    assert files
    for path in files:
        with path.open() as handle:
            hcl2.load(handle)


def test_every_yaml_and_json_file_loads(bundle_dir: Path) -> None:
    for path in sorted(bundle_dir.rglob("*")):
        if path.suffix in (".yml", ".yaml"):
            assert yaml.safe_load(path.read_text()) is not None, path
        elif path.suffix == ".json":
            json.loads(path.read_text())


def test_cloud_init_is_recognised(bundle_dir: Path) -> None:
    for path in bundle_dir.rglob("cloud-init/*.yaml"):
        assert path.read_text().startswith("#cloud-config\n")


@pytest.mark.tools
def test_every_shell_script_passes_shellcheck(bundle_dir: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is required (apt-get install shellcheck)"
    scripts = [
        p
        for p in sorted(bundle_dir.rglob("*"))
        if p.is_file() and p.read_bytes().startswith(b"#!/bin/sh")
    ]
    assert len(scripts) >= 6
    for script in scripts:
        assert script.stat().st_mode & 0o111, f"{script} is not executable"
    result = subprocess.run(
        [shellcheck, "-s", "sh", *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


# An AWS secret written into a file: a credentials-file or env assignment with a literal value
# (the claim script may name AWS_SECRET_ACCESS_KEY, reading ${AWS_SECRET_ACCESS_KEY-}), or an
# access key ID of a user (AKIA) or a session (ASIA).
BAKED_SECRET = re.compile(
    r"aws_secret_access_key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{16,}"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    re.IGNORECASE,
)


def test_the_secret_pattern_tells_a_value_from_a_reference() -> None:
    for baked in (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
        '"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    ):
        assert BAKED_SECRET.search(baked), baked
    for reference in (
        "secret=${AWS_SECRET_ACCESS_KEY-}",
        "#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
        '[ -n "${AWS_SECRET_ACCESS_KEY-}" ]',
    ):
        assert not BAKED_SECRET.search(reference), reference


def test_no_secret_is_baked_into_the_bundle(bundle_dir: Path) -> None:
    for path in bundle_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "auth_pass " not in text or "keepalived_auth_passwords" in text, path
            found = BAKED_SECRET.search(text)
            assert found is None, (path, found.group(0) if found else "")
