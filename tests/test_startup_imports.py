"""What `hacompile validate` loads: none of the build-only stages (docs/performance.md). A
subprocess, because in the test process every module is imported already."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

BLOG = ROOT / "blueprints" / "blog-aws-keepalived.yaml"
# Run the CLI as `python -m hacompile validate BLOG` does, then list the modules it loaded.
PROBE = """
import json, sys
sys.argv = ["hacompile", "validate", sys.argv[1]]
from hacompile.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
# Rendering (Jinja), writing, the manifest (json, hashlib: the spec digest), the failover
# presenter (explain, README) and the tool commands' own modules.
BUILD_ONLY = (
    "jinja2",
    "hacompile.render",
    "hacompile.write",
    "hacompile.journal",
    "hacompile.manifest",
    "hacompile.outdir",
    "hacompile.failover.present",
    "hacompile.verify",
    "hacompile.lab",
)


def test_validate_loads_no_build_only_module() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(BLOG)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.endswith(": valid\n")
    loaded = json.loads(result.stderr.strip().splitlines()[-1])
    assert "hacompile.pipeline" in loaded  # the probe did run validate
    unwanted = [m for m in loaded if m.startswith(BUILD_ONLY)]
    assert unwanted == []
