"""The README's quick start, as a user on a fresh machine runs it.

`.ci/install-quickstart.sh` installs this checkout with a plain `pip install .` into a venv of
its own (only the declared runtime dependencies, the package from its wheel); these tests run
that installed `hacompile`, from outside the checkout, and compare what it builds with the
golden bundle. The editable install the rest of the suite uses cannot catch a template left
out of the wheel or an import that only the test extras satisfy.

Without the venv (a developer who has not run the script) the tests skip; under CI they fail.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

VENV = Path(os.environ.get("HACOMPILE_TOOLS_DIR") or "/opt/hacompile-tools") / "quickstart"
GOLDEN = ROOT / "tests" / "golden" / "blog-aws-keepalived"


def _installed_root() -> Path:
    """Where the venv's hacompile package lives; skip (fail under CI) when there is none."""
    python = VENV / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{VENV} is missing: .ci/install-quickstart.sh did not run")
        pytest.skip(f"no quick-start venv at {VENV}: run sh .ci/install-quickstart.sh")
    proc = subprocess.run(
        [
            str(python),
            "-c",
            "import hacompile, pathlib; print(pathlib.Path(hacompile.__file__).parent)",
        ],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return Path(proc.stdout.strip())


def _differences(source: Path, installed: Path) -> list[str]:
    out = []
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            twin = installed / path.relative_to(source)
            if not twin.is_file():
                out.append(f"missing {twin}")
            elif not filecmp.cmp(path, twin, shallow=False):
                out.append(f"differs {twin}")
    return out


def test_the_wheel_carries_every_module_and_template() -> None:
    installed = _installed_root()
    assert installed.parent.name == "site-packages", installed  # not the checkout
    stale = _differences(ROOT / "hacompile", installed)
    missing = _differences(ROOT / "templates", installed / "templates")
    if (stale or missing) and not os.environ.get("CI"):
        pytest.skip(
            f"quick-start venv is older than the checkout ({(stale + missing)[0]}): "
            "rerun sh .ci/install-quickstart.sh"
        )
    assert stale == [] and missing == []


def test_quickstart_builds_the_blog_bundle(tmp_path: Path) -> None:
    _installed_root()
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    proc = subprocess.run(
        [
            str(VENV / "bin" / "hacompile"),
            "build",
            str(ROOT / "blueprints" / "blog-aws-keepalived.yaml"),
            "-o",
            str(out),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    built = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    golden = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file())
    assert built == golden
    for rel in golden:
        assert (out / rel).read_bytes() == (GOLDEN / rel).read_bytes(), rel
