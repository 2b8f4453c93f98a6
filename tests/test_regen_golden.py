"""tools/regen_golden.py regenerates the golden bundles and tests/invalid/*.expected, and its
--check mode writes nothing and exits 1 when anything is stale (the pre-commit hook runs it)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

BLOG = "blog-aws-keepalived"
CASES = ("missing-required", "not-a-mapping")


def _tool() -> ModuleType:
    path = ROOT / "tools" / "regen_golden.py"
    spec = importlib.util.spec_from_file_location("regen_golden", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


regen = _tool()


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository-shaped copy with one blueprint, its golden bundle and two invalid cases."""
    (tmp_path / "blueprints").mkdir()
    shutil.copy2(ROOT / "blueprints" / f"{BLOG}.yaml", tmp_path / "blueprints")
    shutil.copytree(ROOT / "tests" / "golden" / BLOG, tmp_path / "tests" / "golden" / BLOG)
    (tmp_path / "tests" / "invalid").mkdir()
    for name in CASES:
        for suffix in (".yaml", ".expected"):
            shutil.copy2(
                ROOT / "tests" / "invalid" / f"{name}{suffix}", tmp_path / "tests" / "invalid"
            )
    # Fresh by construction: the copy's goldens are what the code in this checkout builds.
    assert regen.main([], root=tmp_path) == 0
    return tmp_path


def test_check_passes_on_the_committed_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert regen.main(["--check"]) == 0, capsys.readouterr()
    assert capsys.readouterr().out == ""


def test_check_reports_each_stale_file_and_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert regen.main(["--check"], root=repo) == 0
    capsys.readouterr()
    bundle = repo / "tests" / "golden" / BLOG
    readme = bundle / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    expected = repo / "tests" / "invalid" / f"{CASES[0]}.expected"
    expected.write_text("tests/invalid/old message\n", encoding="utf-8")
    (repo / "tests" / "invalid" / "gone.expected").write_text("x\n", encoding="utf-8")
    (repo / "tests" / "golden" / "removed-blueprint").mkdir()
    before = _snapshot(repo)

    assert regen.main(["--check"], root=repo) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"stale: tests/golden/{BLOG}",
        "stale: tests/golden/removed-blueprint (no blueprint)",
        f"stale: tests/invalid/{CASES[0]}.expected",
        "stale: tests/invalid/gone.expected (no .yaml)",
    ]
    assert _snapshot(repo) == before
    assert (repo / "tests" / "golden" / "removed-blueprint").is_dir()

    assert regen.main([], root=repo) == 0
    assert regen.main(["--check"], root=repo) == 0
    assert "hand edit" not in readme.read_text(encoding="utf-8")
    assert expected.read_text(encoding="utf-8") == (
        ROOT / "tests" / "invalid" / f"{CASES[0]}.expected"
    ).read_text(encoding="utf-8")
    assert not (repo / "tests" / "invalid" / "gone.expected").exists()
    assert not (repo / "tests" / "golden" / "removed-blueprint").exists()


def test_an_executable_bit_is_part_of_the_golden(repo: Path) -> None:
    script = next(
        p
        for p in (repo / "tests" / "golden" / BLOG).rglob("*")
        if p.is_file() and p.stat().st_mode & 0o111
    )
    script.chmod(0o644)
    assert regen.main(["--check"], root=repo) == 1
    assert regen.main([], root=repo) == 0
    assert script.stat().st_mode & 0o111


def test_a_case_that_validates_is_an_error_and_nothing_is_written(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy2(repo / "blueprints" / f"{BLOG}.yaml", repo / "tests" / "invalid" / "valid.yaml")
    before = _snapshot(repo)
    assert regen.main([], root=repo) == 2
    assert "valid.yaml: expected exit 2" in capsys.readouterr().err
    assert _snapshot(repo) == before
