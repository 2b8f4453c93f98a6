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
def test_yaml_problems_are_located(
    tmp_path: Path, text: str, where: tuple[int, int], words: str
) -> None:
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


@pytest.mark.parametrize(
    ("scalar", "words"),
    [
        ("010", "leading zero"),  # YAML 1.2 (ruamel) reads 10, YAML 1.1 (PyYAML, Ansible) 8
        ("-010", "leading zero"),
        ("00", "leading zero"),
        ("0o10", "octal"),  # YAML 1.2 reads 8, YAML 1.1 the string "0o10"
        ("0x50", "hexadecimal"),
        ("0b101", "binary"),  # YAML 1.1 only; ruamel still reads 5
        ("8_0", "underscore"),  # YAML 1.1 only; ruamel still reads 80
        ("10_", "underscore"),
        ("1_0.5", "underscore"),
    ],
)
def test_ambiguous_number_forms_are_refused_at_the_scalar(
    tmp_path: Path, scalar: str, words: str
) -> None:
    with pytest.raises(SpecError) as info:
        load(_write(tmp_path, f"version: 1\nhaproxy:\n  maxconn: {scalar}\n"))
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.column) == (3, 12)
    assert words in diag.message and scalar in diag.message


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("0", 0),
        ("80", 80),
        ("-5", -5),
        ("+5", 5),
        ("1.5", 1.5),
        ("0.25", 0.25),
        ("1e3", 1000.0),
        ("'010'", "010"),
    ],
)
def test_plain_decimal_numbers_still_load(tmp_path: Path, scalar: str, value: object) -> None:
    """Every YAML reader agrees on these, so they stay; a quoted 010 is a string."""
    assert load(_write(tmp_path, f"a: {scalar}\n")).data == {"a": value}


def test_an_oversized_list_is_refused_while_parsing(tmp_path: Path) -> None:
    """Refused at the first item past the cap, before the rest of the file is parsed (a
    10,000-item list took seconds to parse before pydantic refused its length)."""
    from hacompile.load import MAX_ITEMS

    items = "".join(f"  - {{name: f{i}, port: {1000 + i}}}\n" for i in range(MAX_ITEMS + 5))
    with pytest.raises(SpecError) as info:
        load(_write(tmp_path, "version: 1\nfrontends:\n" + items))
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.column) == (3 + MAX_ITEMS, 5)
    assert f"more than {MAX_ITEMS} items" in diag.message
    at_cap = "".join(f"  - {i}\n" for i in range(MAX_ITEMS))
    assert len(load(_write(tmp_path, "a:\n" + at_cap)).data["a"]) == MAX_ITEMS


def test_an_oversized_mapping_is_refused_while_parsing(tmp_path: Path) -> None:
    from hacompile.load import MAX_ITEMS

    keys = ", ".join(f"k{i}: {i}" for i in range(MAX_ITEMS + 1))
    with pytest.raises(SpecError) as info:
        load(_write(tmp_path, "tags: {" + keys + "}\n"))
    (diag,) = info.value.diagnostics
    assert diag.line == 1 and f"more than {MAX_ITEMS} keys" in diag.message


def test_the_loader_cap_admits_every_list_the_model_bounds() -> None:
    """The loader's cap is a coarse early stop; each field's own bound (and its message) is
    the model's, so no bounded list may be longer than the cap."""
    from hacompile.load import MAX_ITEMS
    from hacompile.spec import bounds

    limits = {k: v for k, v in vars(bounds).items() if k.startswith("MAX_")}
    assert limits and max(limits.values()) <= MAX_ITEMS, limits


def test_many_values_are_refused_while_parsing(tmp_path: Path) -> None:
    """40 x 64 x 64 nested scalars (330 KB) took 9-15 s to parse and passed the loader: each
    value costs ruamel ~30 us. The node budget now also counts while composing."""
    from hacompile.load import MAX_NODES

    cube = "[" + ",".join(["[" + ",".join(["[" + ",".join(["1"] * 64) + "]"] * 64) + "]"] * 40)
    with pytest.raises(SpecError) as info:
        load(_write(tmp_path, "version: 1\nregions: " + cube + "]\n"))
    (diag,) = info.value.diagnostics
    assert diag.line == 2 and f"more than {MAX_NODES} values" in diag.message
