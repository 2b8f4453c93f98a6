"""Terraform checkers: schema and references (python-hcl2), HashiCorp's parser and formatter
(node), and checkov.

Why three: no terraform binary or provider can be downloaded here, so each covers part of what
`terraform validate` + `terraform fmt -check` + a policy scan would: the committed provider
schema catches wrong arguments and dangling references, HashiCorp's own HCL libraries give a
real parse and the exact `fmt` layout, and checkov the security posture. An inline
`# checkov:skip=ID: reason` is accepted only with a reason and only if the bundle README lists it.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from importlib import resources
from pathlib import Path

from hacompile.verify.base import Context, Outcome, Unavailable, run_tool
from hacompile.verify.tools import executable, npm_modules

__all__ = ["check_checkov", "check_fmt", "check_schema", "module_dirs", "region_dirs"]

SKIP_RE = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::\s*(.*))?$")


SHARED = "modules"  # terraform/modules/<name>/: the module every region's root calls


def region_dirs(bundle: Path) -> list[Path]:
    """The per-region root modules (terraform/<region>/)."""
    root = bundle / "terraform"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name != SHARED)


def module_dirs(bundle: Path) -> list[Path]:
    """Every Terraform module of the bundle: the shared module(s), then the region roots."""
    shared = bundle / "terraform" / SHARED
    called = sorted(p for p in shared.iterdir() if p.is_dir()) if shared.is_dir() else []
    return called + region_dirs(bundle)


def _tf_files(ctx: Context) -> list[Path]:
    return [tf for module in module_dirs(ctx.bundle) for tf in sorted(module.glob("*.tf"))]


def check_schema(ctx: Context) -> Outcome:
    """Parse every .tf with python-hcl2 and check it against the provider-6 schema snapshot;
    check each module call against the called module's variables and outputs."""
    try:
        from hacompile.verify.tfcalls import check_module_calls
        from hacompile.verify.tfschema import check_terraform_dir
    except ImportError as exc:
        raise Unavailable.python(exc) from None
    modules = module_dirs(ctx.bundle)
    if not modules:
        return Outcome(("terraform/: no region modules found",))
    findings = []
    for module in modules:
        for f in (*check_terraform_dir(module), *check_module_calls(module)):
            where = f"{f.block}: " if f.block else ""
            findings.append(f"{ctx.rel(module / f.path)}: {where}{f.message}")
    files = sum(1 for _ in _tf_files(ctx))
    return Outcome(tuple(findings), f"{len(modules)} module(s), {files} files")


def check_fmt(ctx: Context) -> Outcome:
    """HashiCorp's HCL parser must accept each file and hclwrite.Format must not change it."""
    node = executable("node")
    modules = npm_modules("@cdktn/hcl-tools", "@cdktn/hcl2json")
    files = _tf_files(ctx)
    if not files:
        return Outcome(("terraform/: no .tf files found",))
    script = Path(str(resources.files("hacompile.verify") / "hclfmt.js"))
    proc = run_tool([str(node), str(script), str(modules), *map(str, files)], timeout=120)
    if proc.returncode != 0:
        return Outcome((f"node hclfmt.js failed ({proc.returncode}): {proc.stderr.strip()}",))
    findings: list[str] = []
    for result in json.loads(proc.stdout):
        path = Path(result["file"])
        rel = ctx.rel(path)
        if result["parse_error"]:
            findings.append(f"{rel}: HCL parse error: {result['parse_error']}")
        if result["format_error"]:
            findings.append(f"{rel}: hclwrite could not format it: {result['format_error']}")
        elif result["formatted"] is not None:
            original = path.read_text(encoding="utf-8")
            if result["formatted"] != original:
                findings.append(
                    f"{rel}: not in `terraform fmt` layout:\n"
                    + _diff(original, result["formatted"], rel)
                )
    return Outcome(tuple(findings), f"{len(files)} files parsed and formatted by hclwrite")


def _diff(before: str, after: str, name: str, limit: int = 12) -> str:
    lines = list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            f"{name} (bundle)",
            f"{name} (terraform fmt)",
            lineterm="",
            n=0,
        )
    )
    shown = lines[:limit] + (
        [f"... {len(lines) - limit} more diff lines"] if len(lines) > limit else []
    )
    return "\n".join("    " + line for line in shown)


def inline_skips(ctx: Context) -> list[tuple[str, int, str, str]]:
    """Every `# checkov:skip=ID: reason` in the bundle's .tf files: (file, line, id, reason)."""
    skips = []
    for tf in _tf_files(ctx):
        for number, line in enumerate(tf.read_text(encoding="utf-8").splitlines(), 1):
            match = SKIP_RE.search(line)
            if match:
                skips.append((ctx.rel(tf), number, match.group(1), (match.group(2) or "").strip()))
    return skips


def check_checkov(ctx: Context) -> Outcome:
    """checkov offline over terraform/: zero failed checks; every skip has a reason and is listed
    in the bundle README."""
    checkov = executable("checkov")
    root = ctx.bundle / "terraform"
    if not root.is_dir():
        return Outcome(("terraform/: missing",))
    env = {
        **os.environ,
        "BC_SKIP_MAPPING": "TRUE",
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        "LOG_LEVEL": "ERROR",
    }
    proc = run_tool(
        [
            str(checkov),
            "-d",
            str(root),
            "--framework",
            "terraform",
            "--skip-download",
            "--quiet",
            "--compact",
            "--output",
            "json",
        ],
        env=env,
        timeout=300,
    )
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else []
    except json.JSONDecodeError:
        return Outcome((f"checkov failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}",))
    reports = report if isinstance(report, list) else [report]
    findings: list[str] = []
    passed = skipped = 0
    for part in reports:
        if not isinstance(part, dict) or "results" not in part:
            continue  # "no resources found" summaries
        results = part["results"]
        passed += int(part.get("summary", {}).get("passed", 0))
        skipped += int(part.get("summary", {}).get("skipped", 0))
        for failed in results.get("failed_checks", []):
            findings.append(
                f"terraform{failed['file_path']}: {failed['resource']}: "
                f"{failed['check_id']} {failed['check_name']}"
            )
        for error in part.get("summary", {}).get("parsing_errors", []) or []:
            findings.append(f"checkov could not parse {error}")
    if proc.returncode not in (0, 1):
        findings.append(f"checkov exited {proc.returncode}: {proc.stderr.strip()[-1000:]}")
    readme_path = ctx.bundle / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    for file, line, check_id, reason in inline_skips(ctx):
        if len(reason) < 10:
            findings.append(f"{file}:{line}: checkov:skip={check_id} has no reason")
        if check_id not in readme:
            findings.append(f"{file}:{line}: checkov:skip={check_id} is not listed in README.md")
    return Outcome(
        tuple(sorted(findings)),
        f"{passed} checks passed, {skipped} skipped inline (listed in README.md)",
    )
