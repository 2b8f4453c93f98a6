"""Every package hacompile imports is one it declares.

`pip install .` installs only what pyproject.toml lists, so an import of a package that merely
happens to be installed here (as `click` was: typer 0.29 vendors its own copy and no longer
pulls it in) works on this machine and fails with ImportError on a user's clean venv. The
verifier (`hacompile/verify/`) may use the `verify` extra, the lab (`hacompile/lab/`) the `lab`
extra, `hacompile status` (`hacompile/status/`) the `status` extra, and the stand-ins both of
them run (`hacompile/standins/`) only what both extras bring; everything else only the runtime
dependencies.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hacompile"

# import name -> the distribution that provides it
PROVIDED_BY = {
    "jinja2": "jinja2",
    "ruamel": "ruamel.yaml",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",  # pydantic's own core, always installed with it
    "typer": "typer",
    "hcl2": "python-hcl2",
    "boto3": "boto3",
    "botocore": "botocore",
    "moto": "moto",
    "parliament": "parliament",
    "yamllint": "yamllint",
    # the stand-in AWS provider (hacompile/verify/tfprovider_stub.py)
    "tf": "tf",
    "grpc": "grpcio",
    "msgpack": "msgpack",
    "cryptography": "cryptography",
}


def _distribution(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"": project["dependencies"], **project["optional-dependencies"]}


def _allowed(path: Path) -> set[str]:
    """The distributions a module at `path` may import: runtime plus its part's extra."""
    extras = {name: {_distribution(r) for r in reqs} for name, reqs in _extras().items()}
    parts = {
        PACKAGE / "verify": extras["verify"],
        PACKAGE / "lab": extras["lab"],
        PACKAGE / "status": extras["status"],
        PACKAGE / "standins": extras["verify"] & extras["lab"],
    }
    allowed = set(extras[""])
    for part, dists in parts.items():
        if part in path.parents:
            allowed |= dists
    return allowed


def _third_party_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top != "hacompile" and top not in sys.stdlib_module_names:
                found.add(top)
    return found


def test_every_import_is_a_declared_dependency() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        allowed = _allowed(path)
        for name in sorted(_third_party_imports(path)):
            dist = PROVIDED_BY.get(name)
            if dist is None or dist not in allowed:
                problems.append(
                    f"{path.relative_to(ROOT)} imports {name!r}, which "
                    f"{'is not in PROVIDED_BY' if dist is None else 'is undeclared'}"
                )
    assert problems == []


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    """The scan itself: a module importing `click` is reported (the bug this file guards)."""
    module = tmp_path / "m.py"
    module.write_text("import os\nimport click\nfrom typer import Option\nfrom . import x\n")
    assert _third_party_imports(module) == {"click", "typer"}


def test_the_lab_extra_brings_moto_server_and_boto3_pinned_like_verify() -> None:
    """`pip install 'hacompile[lab]'` must bring what the lab's cloud host runs (moto's server,
    which needs moto's `server` extra, and boto3), at the pins verify and install-lab.sh use."""
    extras = _extras()
    lab = {_distribution(r): r for r in extras["lab"]}
    verify = {_distribution(r): r for r in extras["verify"]}
    assert {"moto", "boto3"} <= set(lab)
    assert lab["moto"].startswith("moto[server]")
    assert {name: verify.get(name) for name in lab} == lab
    script = (ROOT / ".ci" / "install-lab.sh").read_text()
    assert '-e "$REPO[lab]"' in script  # the lab's Python parts come from the extra itself


def test_a_standin_may_use_only_what_both_extras_bring() -> None:
    """A stand-in importing something only verify's extra has would fail under `[lab]`."""
    assert "python-hcl2" not in _allowed(PACKAGE / "standins" / "m.py")
    assert "python-hcl2" in _allowed(PACKAGE / "verify" / "m.py")
    assert {"moto", "boto3"} <= _allowed(PACKAGE / "standins" / "m.py")
