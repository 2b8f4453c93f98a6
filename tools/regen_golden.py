"""Regenerate tests/golden/<blueprint>/ from blueprints/*.yaml: `python tools/regen_golden.py`.

Read the resulting `git diff tests/golden` as if you had written every line by hand: the golden
bundles are the product. The golden test compares paths, bytes and file modes.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hacompile.pipeline import compile_spec  # noqa: E402
from hacompile.write import write  # noqa: E402


def main() -> int:
    golden = ROOT / "tests" / "golden"
    for spec in sorted((ROOT / "blueprints").glob("*.yaml")):
        target = golden / spec.stem
        if target.exists():
            shutil.rmtree(target)
        compiled = compile_spec(spec)
        write(compiled.bundle, target)
        print(f"{target.relative_to(ROOT)}: {len(compiled.bundle.files)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
