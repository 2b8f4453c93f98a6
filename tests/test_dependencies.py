"""Every package hacompile imports is one it declares.

`pip install .` installs only what pyproject.toml lists, so an import of a package that merely
happens to be installed here (as `click` was: typer 0.29 vendors its own copy and no longer
pulls it in) works on this machine and fails with ImportError on a user's clean venv. The
verifier (`hacompile/verify/`) and the stand-ins it runs (`hacompile/standins/`) may use the
`verify` extra; everything else only the runtime dependencies.
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


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_distribution(r) for r in project["dependencies"]}
    verify = {_distribution(r) for r in project["optional-dependencies"]["verify"]}
    return runtime, runtime | verify


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
    runtime, with_verify = _declared()
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        extra = {PACKAGE / "verify", PACKAGE / "standins"} & set(path.parents)
        allowed = with_verify if extra else runtime
        for name in sorted(_third_party_imports(path)):
            dist = PROVIDED_BY.get(name)
            if dist is None or dist not in allowed:
                problems.append(f"{path.relative_to(ROOT)} imports {name!r}, which "
                                f"{'is not in PROVIDED_BY' if dist is None else 'is undeclared'}")
    assert problems == []


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    """The scan itself: a module importing `click` is reported (the bug this file guards)."""
    module = tmp_path / "m.py"
    module.write_text("import os\nimport click\nfrom typer import Option\nfrom . import x\n")
    assert _third_party_imports(module) == {"click", "typer"}
