"""Bad input never crashes: every malformed spec gives exit 2 and a located message.

Committed cases live in cases/NAME.yaml with the diagnostic line they must produce in
cases/NAME.expected (the CLI runs in cases/, so FILE is the bare name). Cases that cannot or
should not be committed (binary, 20 MB, missing, a directory, unreadable, a symlink loop) are
generated in a temporary directory by the table below. Each case runs the real CLI in a
subprocess under CPU and address-space limits (clirun.py): a hang or blow-up fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.clirun import run_cli

CASES = Path(__file__).resolve().parent / "cases"
COMMITTED = sorted(p.stem for p in CASES.glob("*.yaml"))


def test_corpus_is_complete() -> None:
    """Every committed case has its expected line, and the corpus is as large as promised."""
    assert len(COMMITTED) + len(GENERATED) >= 30
    for name in COMMITTED:
        expected = CASES / f"{name}.expected"
        assert expected.is_file(), f"{expected} is missing"
        assert len(expected.read_text(encoding="utf-8").splitlines()) == 1, expected
    assert not [p for p in CASES.glob("*.expected") if p.stem not in COMMITTED]


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_case(name: str) -> None:
    expected = (CASES / f"{name}.expected").read_text(encoding="utf-8").rstrip("\n")
    result = run_cli(["validate", f"{name}.yaml"], cwd=CASES)
    assert not result.problems(), (result.problems(), result.stderr)
    assert expected in result.stderr.splitlines(), result.stderr


# --- generated cases ------------------------------------------------------------------------


def _binary(tmp: Path) -> str:
    (tmp / "binary.yaml").write_bytes(bytes(range(256)) * 64)
    return "binary.yaml"


def _twenty_megabytes(tmp: Path) -> str:
    with (tmp / "huge.yaml").open("wb") as handle:
        handle.write(b"version: 1\n")
        chunk = b"# " + b"x" * 1021 + b"\n"
        for _ in range(20 * 1024):
            handle.write(chunk)
    return "huge.yaml"


def _wide_mapping(tmp: Path) -> str:
    """~300 KB of one flow mapping with 20k keys (ruamel's slowest shape per byte; a 1 MB one,
    the most the size limit admits, took ~10 s to parse, see docs/hostile-input.md): refused at
    the first key past the loader's MAX_ITEMS, before the rest is parsed."""
    keys = ", ".join(f"k{i}: {i}" for i in range(20_000))
    (tmp / "wide.yaml").write_text("version: 1\nname: {" + keys + "}\n", encoding="utf-8")
    return "wide.yaml"


_SPEC_HEAD = (
    "version: 1\nname: demo\nregions:\n  - name: us-east-1\n    vpc_cidr: 10.0.0.0/16\n"
    "    zones: [us-east-1a, us-east-1b]\n"
)


def _ten_thousand_frontends(tmp: Path) -> str:
    """Took 2-16 s to parse before pydantic refused the length; the loader now stops at the
    65th item (docs/hostile-input.md, "Bounds")."""
    items = "".join(f"    - {{name: f{i}, port: {1000 + i}}}\n" for i in range(10_000))
    (tmp / "frontends.yaml").write_text(
        _SPEC_HEAD + "haproxy:\n  frontends:\n" + items, encoding="utf-8"
    )
    return "frontends.yaml"


def _ten_thousand_checks(tmp: Path) -> str:
    """Past 100 s and 4 GB in the failover proof before checks had a bound."""
    items = "".join(f"    - {{name: c{i}, process: p{i}, weight: -1}}\n" for i in range(10_000))
    (tmp / "checks.yaml").write_text(
        _SPEC_HEAD + "keepalived:\n  checks:\n" + items, encoding="utf-8"
    )
    return "checks.yaml"


def _cube(tmp: Path) -> str:
    """40 x 64 x 64 nested scalars, every list within the loader's cap: 330 KB that took 9-15 s
    to parse before the value budget counted while parsing."""
    cube = "[" + ",".join(["[" + ",".join(["[" + ",".join(["1"] * 64) + "]"] * 64) + "]"] * 40)
    (tmp / "cube.yaml").write_text("version: 1\nregions: " + cube + "]\n", encoding="utf-8")
    return "cube.yaml"


def _missing(tmp: Path) -> str:
    return "does-not-exist.yaml"


def _directory(tmp: Path) -> str:
    (tmp / "ha.yaml").mkdir()
    return "ha.yaml"


def _symlink_loop(tmp: Path) -> str:
    os.symlink("loop-b.yaml", tmp / "loop-a.yaml")
    os.symlink("loop-a.yaml", tmp / "loop-b.yaml")
    return "loop-a.yaml"


def _dangling_symlink(tmp: Path) -> str:
    os.symlink("gone.yaml", tmp / "dangling.yaml")
    return "dangling.yaml"


def _fifo(tmp: Path) -> str:
    """A named pipe nobody writes to: reading it would block forever."""
    os.mkfifo(tmp / "pipe.yaml")
    return "pipe.yaml"


GENERATED: dict[str, tuple[Callable[[Path], str], str]] = {
    "binary": (
        _binary,
        "binary.yaml:1:1: error: contains NUL bytes: this looks like a binary file, not YAML",
    ),
    "20mb": (
        _twenty_megabytes,
        "huge.yaml:1:1: error: file is 20971531 bytes; a spec may be at most 1000000 bytes",
    ),
    "wide": (
        _wide_mapping,
        "wide.yaml:2:564: error: a mapping of more than 64 keys: no "
        "mapping in a spec may be that large",
    ),
    "10k_frontends": (
        _ten_thousand_frontends,
        "frontends.yaml:73:7: error: a list of more "
        "than 64 items: no list in a spec may be that long",
    ),
    "10k_checks": (
        _ten_thousand_checks,
        "checks.yaml:73:7: error: a list of more than 64 items: no list in a spec may be that long",
    ),
    "cube": (
        _cube,
        "cube.yaml:2:79999: error: document has more than 40000 values: no spec needs that many",
    ),
    "missing": (_missing, "does-not-exist.yaml:1:1: error: no such file"),
    "directory": (_directory, "ha.yaml:1:1: error: is a directory, not a spec file"),
    "symlink_loop": (
        _symlink_loop,
        "loop-a.yaml:1:1: error: cannot read: Too many levels of symbolic links",
    ),
    "dangling_symlink": (_dangling_symlink, "dangling.yaml:1:1: error: no such file"),
    "fifo": (_fifo, "pipe.yaml:1:1: error: is not a regular file (a pipe, socket or device)"),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_case(name: str, tmp_path: Path) -> None:
    make, expected = GENERATED[name]
    spec = make(tmp_path)
    result = run_cli(["validate", spec], cwd=tmp_path)
    assert not result.problems(), (result.problems(), result.stderr)
    assert expected in result.stderr.splitlines(), result.stderr


def test_unreadable_file(tmp_path: Path) -> None:
    """Root reads mode-000 files through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH. Dropping both
    from the bounding set before exec (setpriv) leaves a root process that file permissions
    apply to, so "permission denied" is the real kernel answer, not a simulation."""
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is required"
    spec = tmp_path / "secret.yaml"
    spec.write_text("version: 1\n", encoding="utf-8")
    spec.chmod(0)
    prefix = (
        [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
        if os.geteuid() == 0
        else []
    )
    check = subprocess.run([*prefix, "cat", str(spec)], capture_output=True, timeout=10)
    assert check.returncode != 0, "the file is still readable: the test would prove nothing"
    result = run_cli(["validate", "secret.yaml"], cwd=tmp_path, prefix=prefix)
    assert not result.problems(), (result.problems(), result.stderr)
    assert "secret.yaml:1:1: error: permission denied" in result.stderr.splitlines()


@pytest.mark.parametrize("name", ["empty", "python_tag", "billion_laughs", "huge_integer"])
def test_build_refuses_like_validate(name: str, tmp_path: Path) -> None:
    """`build` shares the loader: same exit, same located line, and no output written."""
    expected = (CASES / f"{name}.expected").read_text(encoding="utf-8").rstrip("\n")
    result = run_cli(["build", f"{name}.yaml", "-o", str(tmp_path / "out")], cwd=CASES)
    assert not result.problems(), (result.problems(), result.stderr)
    assert expected in result.stderr.splitlines()
    assert not (tmp_path / "out").exists()
