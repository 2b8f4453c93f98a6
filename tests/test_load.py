"""Stage 1: the loader keeps positions and turns every YAML problem into a located error."""

from __future__ import annotations

from pathlib import Path

import pytest

from hacompile.errors import SpecError
from hacompile.load import load


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ha.yaml"
    path.write_text(text)
    return path


def test_positions_of_keys_items_and_values(tmp_path: Path) -> None:
    text = "version: 1\nregions:\n  - name: us-east-1\n    zones: [a, b]\n"
    loaded = load(_write(tmp_path, text))
    assert loaded.data == {"version": 1, "regions": [{"name": "us-east-1", "zones": ["a", "b"]}]}
    pos = loaded.positions
    assert pos.keys[("regions",)] == (2, 1)
    assert pos.values[("regions", 0)] == (3, 5)
    assert pos.keys[("regions", 0, "zones")] == (4, 5)
    assert pos.values[("regions", 0, "zones", 1)] == (4, 16)
    # an unknown deeper path falls back to its nearest known ancestor
    assert pos.locate(("regions", 0, "zones", 1, "nope")) == (4, 16)


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("a: 1\na: 2\n", (2, 1), "duplicate key `a`"),
        ("a: [1, 2\nb: 3\n", (2, 2), "YAML syntax"),
        ("a: !!python/object:os.system x\n", (1, 4), "tag"),
        ("", (1, 1), "empty"),
        ("# only a comment\n", (1, 1), "empty"),
    ],
)
def test_yaml_problems_are_located(tmp_path: Path, text: str, where: tuple[int, int],
                                   words: str) -> None:
    with pytest.raises(SpecError) as info:
        load(_write(tmp_path, text))
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.column) == where
    assert words in diag.message


def test_binary_and_non_utf8_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "ha.yaml"
    path.write_bytes(b"version: 1\nname: \xff\xfe\n")
    with pytest.raises(SpecError, match="not valid UTF-8") as info:
        load(path)
    assert (info.value.diagnostics[0].line, info.value.diagnostics[0].column) == (2, 7)
    path.write_bytes(b"\x00\x01\x02")
    with pytest.raises(SpecError, match="binary"):
        load(path)


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(SpecError, match="alias bomb"):
        load(_write(tmp_path, "\n".join(lines) + "\n"))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load(tmp_path / "absent.yaml")
    with pytest.raises(SpecError, match="is a directory"):
        load(tmp_path)
