"""`hacompile init`'s file is written by hacompile.starter (the CLI only prints and exits)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hacompile.starter import Choices, StarterError, render, write_starter
from tests.conftest import ROOT


def test_write_starter_writes_the_rendered_spec(tmp_path: Path) -> None:
    path = tmp_path / "ha.yaml"
    write_starter(path, Choices(lbs=3))
    assert path.read_text() == render(Choices(lbs=3))
    assert [p.name for p in tmp_path.iterdir()] == ["ha.yaml"]  # no temporary file left


def test_write_starter_refuses_an_existing_file_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "ha.yaml"
    path.write_text("mine\n")
    with pytest.raises(StarterError, match="exists; use --force to overwrite it"):
        write_starter(path, Choices())
    assert path.read_text() == "mine\n"
    write_starter(path, Choices(), force=True)
    assert path.read_text() == render(Choices())


def test_write_starter_refuses_bad_choices_before_touching_the_disk(tmp_path: Path) -> None:
    with pytest.raises(StarterError):
        write_starter(tmp_path / "ha.yaml", Choices(lbs=1))
    assert list(tmp_path.iterdir()) == []


def test_the_cli_writes_no_file_itself() -> None:
    """Writing is the starter's and write.py's job: no file calls in the command modules."""
    calls = set()
    for module in (ROOT / "hacompile" / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
            if node.func.attr in {"write_text", "write_bytes", "open", "mkdir"} or (
                owner == "os" and node.func.attr in {"replace", "rename"}
            ):
                calls.add(f"{module.name}:{node.lineno}: {node.func.attr}")
    assert sorted(calls) == []
