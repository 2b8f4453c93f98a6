"""Importing the spec model switches pydantic plugin discovery off for its own models only
(hacompile/spec/__init__.py) and leaves the user's setting as it was.

A fake plugin is installed the way real ones are (an entry point in the `pydantic` group of a
distribution on sys.path), so the test sees the switch work: a model defined after hacompile's
is wrapped by the plugin, hacompile's are not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = (
    "import json, os\n"
    "from pydantic import BaseModel\n"
    "from pydantic_core import SchemaValidator\n"
    "from hacompile.spec.model import Spec\n"
    "class Other(BaseModel):\n"
    "    x: int = 0\n"
    "print(json.dumps({'env': os.environ.get('PYDANTIC_DISABLE_PLUGINS'),\n"
    "                  'spec_plain': type(Spec.__pydantic_validator__) is SchemaValidator,\n"
    "                  'other_plain': type(Other.__pydantic_validator__) is SchemaValidator}))\n"
)


def _fake_plugin(root: Path) -> None:
    (root / "fakeplugin.py").write_text(
        "class _Plugin:\n"
        "    def new_schema_validator(self, *args, **kwargs):\n"
        "        return None, None, None\n"
        "plugin = _Plugin()\n"
    )
    info = root / "fakeplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pydantic]\nfake = fakeplugin:plugin\n")


@pytest.mark.parametrize("before", [None, "", "some_other_plugin"])
def test_plugins_off_for_the_model_and_the_setting_restored(
    tmp_path: Path, before: str | None
) -> None:
    _fake_plugin(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    if before is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = before
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(proc.stdout) == {"env": before, "spec_plain": True, "other_plain": False}
