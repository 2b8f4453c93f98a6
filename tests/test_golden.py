"""Every blueprint, built afresh, is byte-identical to its committed bundle in tests/golden/:
same paths, same bytes, same modes. Regenerate with `python tools/regen_golden.py` and read the
diff as if you had written it by hand."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hacompile.pipeline import compile_spec
from hacompile.write import write
from tests.conftest import BLUEPRINTS, ROOT

GOLDEN = ROOT / "tests" / "golden"


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = (
                path.read_bytes(),
                path.stat().st_mode & 0o111 != 0,
            )
    return out


@pytest.mark.parametrize("spec", BLUEPRINTS, ids=[b.stem for b in BLUEPRINTS])
def test_blueprint_matches_golden(spec: Path, tmp_path: Path) -> None:
    write(compile_spec(spec).bundle, tmp_path)
    fresh = _tree(tmp_path)
    golden = _tree(GOLDEN / spec.stem)
    assert sorted(fresh) == sorted(golden), "file list differs: run tools/regen_golden.py"
    for name, (content, executable) in golden.items():
        assert fresh[name][0] == content, f"{name} differs: run tools/regen_golden.py"
        assert fresh[name][1] == executable, f"{name}: executable bit differs"


def test_every_blueprint_has_a_golden_bundle() -> None:
    assert {b.stem for b in BLUEPRINTS} == {p.name for p in GOLDEN.iterdir() if p.is_dir()}


def test_same_spec_gives_identical_bytes_under_another_umask(tmp_path: Path) -> None:
    spec = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
    old = os.umask(0o077)
    try:
        write(compile_spec(spec).bundle, tmp_path / "a")
    finally:
        os.umask(old)
    write(compile_spec(spec).bundle, tmp_path / "b")
    a, b = tmp_path / "a", tmp_path / "b"
    for path in a.rglob("*"):
        if path.is_file():
            twin = b / path.relative_to(a)
            assert path.read_bytes() == twin.read_bytes()
            assert path.stat().st_mode & 0o777 == twin.stat().st_mode & 0o777
