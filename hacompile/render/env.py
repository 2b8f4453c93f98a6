"""The Jinja environment for hacompile's own templates (``*.jinja``).

StrictUndefined turns a misspelt plan attribute into an error at build time rather than an
empty string in a production config. Templates receive plan objects and format them: every
derived value (names, labels, versions, lookups, the claim's bounds) is a plan field, and
tests/test_templates_format.py refuses arithmetic and string surgery in a template.

A value reaches HCL code through one escaping path, `hacompile.render.hcl`: the `hcl` filter
for a whole literal, `hcl_inner` for a fragment of a quoted string that also holds Terraform's
own ``${...}``, `hcl_argument` for a module argument (the same literals, laid out one entry per
line, and `hacompile.plan.module.Expr`, fixed text such as ``file("...")``, as is). Raw ``{{ }}``
in a .tf template is left in exactly these places, and tests/hostile/test_injection.py
(RAW_HCL_IDENTIFIERS, RAW_HCL_COMMENTS) holds the list:
- identifier positions (variable, output and argument names, the module label, resource labels,
  `moved` addresses), where quoting would change the meaning: input.name, output.name,
  arg.name, module.call (hacompile.plan.module), group in the egress macro (lb | backend), and
  from/to in moved.tf (resource labels of the rendered module and egress rule keys);
- the module interface's type constraints and validation conditions (input.type,
  v.condition): Terraform text written in hacompile.plan.module, never spec input;
- attribute and object-key names the module picks (module.lb_ansible_host: id | public_ip;
  module.dns_record_key: name | record_name), fixed in hacompile.plan.module;
- ``#`` comments, where only a line break could start code: plan.name, region.name,
  region.names.prefix (DNS labels), plan.hacompile_version, plan.spec_file,
  plan.deployment_tag_key, region.flow_logs.retention_days (an integer) and the checkov/trivy
  tables' IDs, keys and reasons (printable, checked by that test).
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
)

from hacompile.render import checkov, hcl, trivyignore


@cache
def template_root() -> Path:
    """Templates ship inside the wheel as hacompile/templates; in a checkout they sit at the top."""
    packaged = Path(str(resources.files("hacompile"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def _bytecode_cache() -> BytecodeCache | None:
    """Compiling the templates to Python costs more than rendering them, on every run. Jinja's
    file cache keeps the compiled code between runs, keyed by template name and checked against
    a checksum of the source (and the Python version), so an edited template is recompiled.
    Jinja's default directory is per user (``$TMPDIR/_jinja2-cache-UID``), created 0700 and
    refused if another user owns it. ``HACOMPILE_TEMPLATE_CACHE=off`` disables it."""
    if os.environ.get("HACOMPILE_TEMPLATE_CACHE", "").lower() in ("off", "0", "no"):
        return None
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no usable temp dir, or an unsafe one: compile each run
        return None


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(template_root())),
        bytecode_cache=_bytecode_cache(),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["hcl"] = hcl.literal
    env.filters["hcl_inner"] = hcl.inner
    env.filters["hcl_argument"] = hcl.argument
    env.globals["checkov_skips"] = checkov.skips_for
    env.globals["checkov_skips_for_plan"] = checkov.skips_for_plan
    env.globals["trivy_ignores"] = trivyignore.ignores_for
    env.globals["trivy_ignores_for_plan"] = trivyignore.ignores_for_plan
    return env
