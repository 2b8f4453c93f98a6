"""Ansible checkers: playbook syntax and module names, ansible-lint (production), yamllint.

Why the module-name check: `ansible-playbook --syntax-check` does not open files pulled in with
`include_tasks`, and ansible-lint only warns about a module it cannot resolve, so a task naming
a module that no installed collection has (e.g. one that moved between collections) would pass
both. Every FQCN used as a task's action is therefore looked up with `ansible-doc`.
ansible-lint runs on a copy of ansible/ because it writes a `.ansible/` cache into the project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hacompile.verify.base import Context, Outcome, Unavailable, run_tool
from hacompile.verify.tools import executable

__all__ = ["ansible_env", "check_lint", "check_syntax", "check_yamllint", "task_modules"]

_FQCN = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+$")
_NESTED = ("block", "rescue", "always")


def ansible_env(ctx: Context, tool: Path) -> dict[str, str]:
    """Environment for Ansible tools: their venv first on PATH, caches inside the workdir."""
    home = ctx.workdir / "ansible-home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
        "ANSIBLE_LINT_SKIP_VERSION_CHECK": "1",
        "PYTHONWARNINGS": "ignore",
    }


def _tasks(items: Any) -> Iterator[dict[str, Any]]:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            yield item
            for key in _NESTED:
                yield from _tasks(item.get(key))


def task_modules(ansible_dir: Path) -> dict[str, list[str]]:
    """FQCN action -> files using it, over every role task and handler file."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    loader = YAML(typ="safe", pure=True)
    used: dict[str, list[str]] = {}
    for path in sorted(ansible_dir.glob("roles/*/*/*.yml")):
        if path.parent.name not in ("tasks", "handlers"):
            continue
        try:
            document = loader.load(path.read_text(encoding="utf-8"))
        except YAMLError:
            continue  # yamllint and ansible-lint report it
        for task in _tasks(document):
            for key in task:
                if _FQCN.match(key):
                    used.setdefault(key, []).append(path.relative_to(ansible_dir).as_posix())
    return used


PLAYBOOKS = ("site.yml", "maintenance.yml")  # the deploy, and the rolling maintenance


def check_syntax(ctx: Context) -> Outcome:
    """`ansible-playbook --syntax-check` of each playbook, and every task's module must exist."""
    playbook = executable("ansible-playbook")
    doc = executable("ansible-doc")
    ansible_dir = ctx.bundle / "ansible"
    missing = [
        f"ansible/{name}: missing" for name in PLAYBOOKS if not (ansible_dir / name).is_file()
    ]
    if missing:
        return Outcome(tuple(missing))
    env = ansible_env(ctx, playbook)
    findings: list[str] = []
    for name in PLAYBOOKS:
        proc = run_tool(
            [str(playbook), "--syntax-check", name], cwd=ansible_dir, env=env, timeout=120
        )
        if proc.returncode != 0:
            findings.append(
                f"ansible/{name}: --syntax-check failed: "
                + (proc.stderr or proc.stdout).strip()[-2000:]
            )
    modules = task_modules(ansible_dir)
    if modules:
        proc = run_tool(
            [str(doc), "-t", "module", "--json", *sorted(modules)],
            cwd=ansible_dir,
            env=env,
            timeout=120,
        )
        try:
            known = set(json.loads(proc.stdout or "{}"))
        except json.JSONDecodeError:
            known = set()
            findings.append(f"ansible-doc failed: {proc.stderr.strip()[-1000:]}")
        for name in sorted(set(modules) - known):
            for file in sorted(set(modules[name])):
                findings.append(
                    f"ansible/{file}: module {name} is not in any installed "
                    "collection (check the collection in requirements.yml)"
                )
    return Outcome(tuple(findings), f"{' and '.join(PLAYBOOKS)}, {len(modules)} modules resolved")


_PEP8 = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+)(?::\d+)?: (?P<rest>.*)$")


def check_lint(ctx: Context) -> Outcome:
    """ansible-lint --offline --profile production on a copy of ansible/: zero findings."""
    lint = executable("ansible-lint")
    source = ctx.bundle / "ansible"
    if not source.is_dir():
        return Outcome(("ansible/: missing",))
    copy = ctx.workdir / "ansible-lint" / "ansible"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".ansible", "*.retry"))
    proc = run_tool(
        [str(lint), "--offline", "--profile", "production", "--format", "pep8", "--nocolor"],
        cwd=copy,
        env=ansible_env(ctx, lint),
        timeout=300,
    )
    findings = []
    for line in proc.stdout.splitlines():
        match = _PEP8.match(line.strip())
        if match:
            findings.append(f"ansible/{match['file']}:{match['line']}: {match['rest']}")
    if proc.returncode != 0 and not findings:
        findings.append(
            f"ansible-lint exited {proc.returncode}: "
            + (proc.stderr or proc.stdout).strip()[-2000:]
        )
    counted = re.search(r"in (\d+) files processed", proc.stdout + proc.stderr)
    files = f", {counted.group(1)} files" if counted else ""
    return Outcome(tuple(findings), f"profile production{files}")


def check_yamllint(ctx: Context) -> Outcome:
    """yamllint over every YAML file of the bundle, with the bundle's ansible/.yamllint."""
    try:
        from yamllint import linter
        from yamllint.config import YamlLintConfig
    except ImportError as exc:
        raise Unavailable.python(exc) from None
    config_file = ctx.bundle / "ansible" / ".yamllint"
    config = (
        YamlLintConfig(file=str(config_file))
        if config_file.is_file()
        else YamlLintConfig("extends: default")
    )
    files = sorted(
        p
        for p in ctx.bundle.rglob("*")
        if p.is_file()
        and (p.suffix in (".yml", ".yaml") or p.name == ".yamllint")
        and ".ansible" not in p.parts
    )
    findings = []
    for path in files:
        rel = ctx.rel(path)
        if config.is_file_ignored(rel):
            continue
        for problem in linter.run(path.read_text(encoding="utf-8"), config, rel):
            findings.append(
                f"{rel}:{problem.line}:{problem.column}: [{problem.level}] "
                f"{problem.desc} ({problem.rule})"
            )
    source = config_file.name if config_file.is_file() else "default config"
    return Outcome(tuple(findings), f"{len(files)} files ({source})")
