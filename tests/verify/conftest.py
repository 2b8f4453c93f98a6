"""Fixtures for the `hacompile verify` tests: freshly built bundles to verify or to break.

Every checker needs its real tool (installed by .ci/install-verify.sh); a missing tool makes the
checker report "not available", which these tests treat as a failure, never as a skip.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from hacompile.pipeline import compile_spec
from hacompile.write import write

ROOT = Path(__file__).resolve().parents[2]
BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"


@pytest.fixture(scope="session")
def blog_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The blog blueprint's bundle, built once; copy it before changing anything."""
    out = tmp_path_factory.mktemp("blog") / "out"
    write(compile_spec(BLOG).bundle, out)
    return out


@pytest.fixture
def broken_bundle(blog_bundle: Path, tmp_path: Path) -> Callable[[str, str, str], Path]:
    """A private copy of the blog bundle with one text edit: (file, old, new) -> bundle dir.

    The edit must apply exactly where asked, so a test cannot silently break nothing.
    """
    copy = tmp_path / "bundle"
    shutil.copytree(blog_bundle, copy)

    def edit(rel: str, old: str, new: str) -> Path:
        path = copy / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return copy

    return edit
