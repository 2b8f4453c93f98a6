"""The `terraform-real` checker: the real `terraform` binary, offline, on a copy of the bundle.

Why: Terraform's own `validate` and `plan` evaluate what no offline parser does (functions,
`each`/`count` scoping, the dependency graph, for_each keys, every expression's value), but
they need the hashicorp/aws provider, which no registry here serves. So the checker installs
hacompile's stand-in provider (tfprovider_stub.py: the committed schema snapshot over
tfplugin6) in a filesystem mirror, and per region module runs `terraform init
-backend=false -plugin-dir`, `terraform validate` and `terraform plan -refresh=false`; before
that `terraform fmt -check -recursive` over the whole terraform/ tree. The plan's known values
are then compared with the compiler's plan (tfplancmp.py).
Everything runs on copies in the verify scratch directory with a clean Terraform environment
(no CLI config, no TF_VAR_*/TF_CLI_ARGS*, no checkpoint calls), so the user's bundle, state
and credentials are never touched. Without terraform >= 1.6 the checker is "not available".
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hacompile
from hacompile.verify.base import Context, Outcome, Unavailable, run_tool
from hacompile.verify.terraform import region_dirs
from hacompile.verify.tfnetwork import existing_network
from hacompile.verify.tfplancmp import compare_plan, compiler_regions
from hacompile.verify.tfprovider_stub import NETWORK_ENV
from hacompile.verify.tools import executable

__all__ = [
    "MIN_VERSION",
    "PROVIDER_VERSION",
    "check_terraform_real",
    "find_terraform",
    "install_stub",
    "terraform_version",
]

MIN_VERSION = (1, 6)
# A 6.x version for the bundle's `~> 6.0`: the provider version the schema snapshot describes.
PROVIDER_VERSION = "6.66.0"
PLATFORM = "linux_amd64"
_IGNORED = shutil.ignore_patterns(
    ".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", "*.tfplan", "tfplan"
)


def terraform_version(terraform: Path) -> tuple[int, ...] | None:
    """`terraform version` as a tuple of numbers, or None when it says nothing usable."""
    proc = run_tool(
        [str(terraform), "version", "-json"], timeout=60, env=_environment(Path(os.devnull))
    )
    try:
        text = str(json.loads(proc.stdout)["terraform_version"])
    except (ValueError, KeyError, TypeError):
        match = re.search(r"Terraform v(\d+\.\d+\.\d+)", proc.stdout)
        if match is None:
            return None
        text = match.group(1)
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def find_terraform() -> tuple[Path, str]:
    """The terraform binary and its version; Unavailable (saying why) when it cannot run."""
    try:
        terraform = executable("terraform")
    except Unavailable:
        raise Unavailable(
            "terraform not found on PATH (needs >= 1.6; no package registry "
            "serves it: install it from HashiCorp)"
        ) from None
    version = terraform_version(terraform)
    shown = ".".join(map(str, version)) if version else "of unknown version"
    if version is None or version[:2] < MIN_VERSION:
        raise Unavailable(f"terraform {shown} at {terraform} is older than 1.6")
    try:  # the stand-in provider's own dependencies (the `verify` extra)
        import cryptography  # noqa: F401
        import grpc  # noqa: F401
        import msgpack  # noqa: F401
        import tf.gen.tfplugin_pb2  # noqa: F401
    except ImportError as exc:
        raise Unavailable.python(exc) from None
    return terraform, shown


def _environment(cli_config: Path) -> dict[str, str]:
    """The caller's environment without anything that steers Terraform, plus our settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TF_", "CHECKPOINT_")) and k != "PLUGIN_CLIENT_CERT"
    }
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
    )
    return env


def install_stub(plugin_dir: Path) -> Path:
    """Put a launcher for the stand-in provider where `terraform init -plugin-dir` looks."""
    target = (
        plugin_dir
        / "registry.terraform.io"
        / "hashicorp"
        / "aws"
        / PROVIDER_VERSION
        / PLATFORM
        / f"terraform-provider-aws_v{PROVIDER_VERSION}"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    root = Path(hacompile.__file__).resolve().parent.parent  # so a source checkout works too
    target.write_text(
        "#!/bin/sh\n# hacompile's stand-in for hashicorp/aws (schema and plans only)\n"
        f"PYTHONPATH={shlex.quote(str(root))}${{PYTHONPATH:+:$PYTHONPATH}} exec "
        f'{shlex.quote(sys.executable)} -m hacompile.verify.tfprovider_stub "$@"\n',
        encoding="utf-8",
    )
    target.chmod(0o755)
    return target


def _diagnostics(lines: Sequence[Mapping[str, Any]], rel: str, step: str) -> list[str]:
    """One finding per error diagnostic: file:line:column, summary and detail."""
    findings = []
    for diag in lines:
        if diag.get("severity") != "error":
            continue
        rng = diag.get("range") or {}
        where = rel
        if rng.get("filename"):
            start = rng.get("start") or {}
            # a region root's findings in the module it calls: terraform/modules/<name>/x.tf
            path = posixpath.normpath(f"{rel}/{rng['filename']}")
            where = f"{path}:{start.get('line', 0)}:{start.get('column', 0)}"
        detail = " ".join(str(diag.get("detail") or "").split())
        # the values Terraform saw in the failing expression: `each.value.subnet is "c"`
        seen = "; ".join(
            f"{v.get('traversal')} {v.get('statement')}"
            for v in (diag.get("snippet") or {}).get("values") or []
        )
        findings.append(
            f"{where}: {step}: {diag.get('summary', 'error')}"
            + (f": {detail}" if detail else "")
            + (f" ({seen})" if seen else "")
        )
    return findings


def _json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


def _failed(rel: str, step: str, proc: Any) -> str:
    text = " ".join((proc.stderr or proc.stdout or "").split())
    return f"{rel}: {step} failed (exit {proc.returncode}): {text[-1500:]}"


class _Run:
    """One checker run: the terraform binary, its environment and the scratch layout."""

    def __init__(self, terraform: Path, work: Path) -> None:
        self.terraform = terraform
        self.work = work
        cli_config = work / "terraformrc"
        cli_config.write_text("# empty: no provider installation overrides\n", encoding="utf-8")
        self.env = _environment(cli_config)
        self.plugins = work / "plugins"
        install_stub(self.plugins)

    def tf(
        self, cwd: Path, *args: str, timeout: float = 300, env: dict[str, str] | None = None
    ) -> Any:
        return run_tool(
            [str(self.terraform), *args], cwd=cwd, env={**self.env, **(env or {})}, timeout=timeout
        )

    def fmt(self, root: Path) -> list[str]:
        proc = self.tf(root, "fmt", "-check", "-recursive", "-diff", "-no-color")
        if proc.returncode == 0:
            return []
        if proc.returncode != 3 or not proc.stdout.strip():
            return [_failed("terraform", "terraform fmt -check", proc)]
        # stdout: each file's name on a line of its own, then its diff
        diffs: dict[str, list[str]] = {}
        for line in proc.stdout.splitlines():
            if line.endswith(".tf") and not line.startswith(("-", "+", "@", " ")):
                diffs[line] = []
            elif diffs and line:
                diffs[list(diffs)[-1]].append("    " + line)
        return [
            f"terraform/{name}: not in `terraform fmt` layout:\n" + "\n".join(diff[:20])
            for name, diff in diffs.items()
        ]

    def module(self, module: Path, rel: str) -> tuple[list[str], dict[str, Any] | None]:
        """init, validate and plan one region module; the plan JSON when they all pass."""
        init = self.tf(
            module,
            "init",
            "-backend=false",
            f"-plugin-dir={self.plugins}",
            "-input=false",
            "-no-color",
        )
        if init.returncode != 0:
            return [_failed(rel, "terraform init", init)], None
        validate = self.tf(module, "validate", "-json", "-no-color")
        try:
            report = json.loads(validate.stdout)
        except ValueError:
            return [_failed(rel, "terraform validate", validate)], None
        findings = _diagnostics(report.get("diagnostics") or [], rel, "validate")
        if findings or validate.returncode != 0:
            return findings or [_failed(rel, "terraform validate", validate)], None
        # A root's S3 backend (spec `state`) is never contacted: validate has read the block;
        # the scratch copy then plans on local state, as a root without `state` does.
        (module / "backend.tf").unlink(missing_ok=True)
        # An existing VPC (spec regions[].vpc_id): the stand-in answers its data sources as the
        # spec states the network (hacompile.verify.tfnetwork), so its postconditions can pass.
        network = existing_network(module)
        env = {}
        if network is not None:
            known = module / ".hacompile-network.json"
            known.write_text(json.dumps(network), encoding="utf-8")
            env[NETWORK_ENV] = str(known)
        plan = self.tf(
            module,
            "plan",
            "-refresh=false",
            "-input=false",
            "-lock=false",
            "-json",
            "-out=tfplan",
            env=env,
        )
        messages = [
            m["diagnostic"]
            for m in _json_lines(plan.stdout)
            if m.get("type") == "diagnostic" and isinstance(m.get("diagnostic"), dict)
        ]
        findings = _diagnostics(messages, rel, "plan")
        if findings or plan.returncode != 0:
            return findings or [_failed(rel, "terraform plan", plan)], None
        show = self.tf(module, "show", "-json", "tfplan")
        try:
            return [], dict(json.loads(show.stdout))
        except ValueError:
            return [_failed(rel, "terraform show -json", show)], None


def check_terraform_real(ctx: Context) -> Outcome:
    """fmt, validate and plan every region module with real Terraform; compare the plans."""
    terraform, version = find_terraform()
    source = ctx.bundle / "terraform"
    modules = [p.name for p in region_dirs(ctx.bundle)]
    if not modules:
        return Outcome(("terraform/: no region modules found",))
    work = ctx.workdir / "terraform-real"
    try:
        shutil.copytree(source, work / "terraform", ignore=_IGNORED)
        run = _Run(terraform, work)
        findings = run.fmt(work / "terraform")
        try:
            compiled = compiler_regions(ctx.bundle)
        except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
            compiled = {}
            findings.append(f"cannot read the compiler's plan from ansible/inventory: {exc}")
        times, compared = [], 0
        for name in modules:
            start = time.monotonic()
            rel = f"terraform/{name}"
            found, plan = run.module(work / "terraform" / name, rel)
            findings += found
            if plan is not None and name in compiled:
                diffs, count = compare_plan(plan, compiled[name])
                findings += [f"{rel}: plan: {d}" for d in diffs]
                compared += count
            elif plan is not None and compiled:
                findings.append(
                    f"{rel}: region {name} is not in the compiler's plan "
                    "(ansible/inventory/hacompile.yml)"
                )
            times.append(f"{name} {time.monotonic() - start:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = (
        f"terraform {version}: fmt -check, validate and plan -refresh=false of "
        f"{len(modules)} module(s) against the stand-in aws provider "
        f"({', '.join(times)}); {compared} planned values compared with the compiler's"
    )
    # a defect in the shared module is found by every region root that calls it: say it once
    return Outcome(tuple(dict.fromkeys(findings)), summary)
