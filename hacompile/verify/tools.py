"""Finding the external tools `hacompile verify` drives.

Why: several tools cannot share hacompile's Python environment (checkov pins bc-python-hcl2,
which clashes with python-hcl2; ansible-lint pins its own stack), so `.ci/install-verify.sh`
puts them in venvs under one tools directory. Users may instead have them on PATH. Lookup order:
$HACOMPILE_TOOLS_DIR (default /opt/hacompile-tools) first, then PATH, then /usr/sbin and /sbin
(keepalived and ip live there and a non-root PATH may lack them).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hacompile.verify.base import Unavailable

__all__ = ["INSTALL_HINT", "executable", "npm_modules", "tools_dir"]

INSTALL_HINT = "see docs/verify.md or run .ci/install-verify.sh"

# Which venv under the tools dir carries which command.
_VENV = {
    "checkov": "checkov",
    "ansible-playbook": "ansible",
    "ansible-lint": "ansible",
    "ansible-galaxy": "ansible",
    "ansible-doc": "ansible",
}


def tools_dir() -> Path:
    return Path(os.environ.get("HACOMPILE_TOOLS_DIR") or "/opt/hacompile-tools")


def executable(name: str) -> Path:
    """The path of command `name`, or raise Unavailable naming it."""
    venv = _VENV.get(name)
    if venv is not None:
        candidate = tools_dir() / venv / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
    found = shutil.which(name, path=search)
    if found is None:
        raise Unavailable(f"{name} not found ({INSTALL_HINT})")
    return Path(found)


def npm_modules(*packages: str) -> Path:
    """The node_modules directory holding every npm package named, or raise Unavailable."""
    candidates = [tools_dir() / "npm" / "node_modules"]
    extra = os.environ.get("HACOMPILE_NODE_MODULES")
    if extra:
        candidates.insert(0, Path(extra))
    for base in candidates:
        if all((base / pkg / "package.json").is_file() for pkg in packages):
            return base
    raise Unavailable(f"npm packages {', '.join(packages)} not found ({INSTALL_HINT})")
