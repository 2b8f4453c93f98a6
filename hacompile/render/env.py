"""The Jinja environment for hacompile's own templates (``*.jinja``).

StrictUndefined turns a misspelt plan attribute into an error at build time rather than an
empty string in a production config. Templates receive plan objects and format them; the
`hcl` filter is the only way a value reaches HCL.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hacompile.render import checkov, hcl


@cache
def template_root() -> Path:
    """Templates ship inside the wheel as hacompile/templates; in a checkout they sit at the top."""
    packaged = Path(str(resources.files("hacompile"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(template_root())),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["hcl"] = hcl.literal
    env.globals["checkov_skips"] = checkov.skips_for
    env.globals["checkov_skips_for_plan"] = checkov.skips_for_plan
    return env
