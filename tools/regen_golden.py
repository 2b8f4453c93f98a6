"""Regenerate what the tests compare byte for byte: `python tools/regen_golden.py [--check]`.

- tests/golden/<blueprint>/ from blueprints/*.yaml (tests/test_golden.py compares paths, bytes
  and executable bits);
- tests/invalid/NAME.expected from tests/invalid/NAME.yaml: the stderr of
  `hacompile validate NAME.yaml` run inside tests/invalid/ (tests/test_invalid_specs.py compares
  it exactly). A case that does not fail with exit status 2, an empty stdout and no traceback is
  an error, never written.

The hostile corpus (tests/hostile/cases/NAME.expected) is not regenerated: each of those files is
one line picked by hand from the CLI's output, which that test looks for among the lines.

With `--check` nothing is written: it lists what is stale and exits 1 if anything is (0 if all is
fresh; 2 if an invalid case cannot be regenerated). Without it, read the resulting
`git diff tests/golden tests/invalid` as if you had written every line by hand: the golden
bundles are the product and the diagnostics are its error messages.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hacompile.pipeline import compile_spec  # noqa: E402
from hacompile.write import write  # noqa: E402


class CaseError(Exception):
    """An invalid case whose output cannot be its expected diagnostics."""


def _tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file under `root` with its bytes and executable bit (what git keeps, what
    tests/test_golden.py compares)."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o111 != 0)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def golden(root: Path, *, check: bool) -> list[str]:
    """Stale golden bundles under `root`/tests/golden, as paths relative to `root`; rewritten
    (and golden bundles of removed blueprints deleted) unless `check`."""
    target_dir = root / "tests" / "golden"
    specs = sorted((root / "blueprints").glob("*.yaml"))
    stale = []
    for spec in specs:
        target = target_dir / spec.stem
        compiled = compile_spec(spec)
        with tempfile.TemporaryDirectory() as tmp:
            write(compiled.bundle, Path(tmp))
            fresh = _tree(Path(tmp))
        if target.is_dir() and _tree(target) == fresh:
            continue
        stale.append(target.relative_to(root).as_posix())
        if not check:
            if target.exists():
                shutil.rmtree(target)
            write(compiled.bundle, target)
    names = {spec.stem for spec in specs}
    for orphan in sorted(p for p in target_dir.iterdir() if p.name not in names):
        stale.append(orphan.relative_to(root).as_posix() + " (no blueprint)")
        if not check and orphan.is_dir():
            shutil.rmtree(orphan)
        elif not check:
            orphan.unlink()
    return stale


def diagnostics(spec: Path) -> str:
    """What tests/test_invalid_specs.py expects for `spec`: the CLI's stderr, run the same way."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "hacompile", "validate", spec.name],
        cwd=spec.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 2 or proc.stdout or "Traceback" in proc.stderr:
        raise CaseError(
            f"{spec.name}: expected exit 2, no stdout and no traceback; got exit "
            f"{proc.returncode}, stdout {proc.stdout[:200]!r}, "
            f"stderr {proc.stderr[-500:]!r}"
        )
    return proc.stderr


def invalid(root: Path, *, check: bool) -> list[str]:
    """Stale tests/invalid/*.expected under `root`, relative to `root`; rewritten (and an
    .expected without its .yaml deleted) unless `check`. Raises CaseError."""
    cases = root / "tests" / "invalid"
    specs = sorted(cases.glob("*.yaml"))
    texts = {spec: diagnostics(spec) for spec in specs}  # every case first: all or nothing
    stale = []
    for spec, text in texts.items():
        expected = spec.with_suffix(".expected")
        if expected.is_file() and expected.read_text(encoding="utf-8") == text:
            continue
        stale.append(expected.relative_to(root).as_posix())
        if not check:
            expected.write_text(text, encoding="utf-8")
    names = {spec.stem for spec in specs}
    for orphan in sorted(p for p in cases.glob("*.expected") if p.stem not in names):
        stale.append(orphan.relative_to(root).as_posix() + " (no .yaml)")
        if not check:
            orphan.unlink()
    return stale


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a golden bundle or .expected is stale",
    )
    args = parser.parse_args(argv)
    try:
        stale_invalid = invalid(root, check=args.check)  # before any golden is rewritten
        stale = golden(root, check=args.check) + stale_invalid
    except CaseError as exc:
        print(f"regen_golden: {exc}", file=sys.stderr)
        return 2
    for path in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {path}")
    if args.check and stale:
        print("run `python tools/regen_golden.py` and read the diff", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
