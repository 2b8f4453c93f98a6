"""What every checker of `hacompile verify` shares: its result type and its per-run context.

Why a separate module: the runner, the CLI and every checker module import these, and the
checkers must not import each other (each one is optional: its tool may be missing).
A checker is a function `(Context) -> Outcome`; it raises `Unavailable` when its tool is not
installed, so the runner can report "not available" instead of a false pass or a crash.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = ["CheckResult", "Context", "Outcome", "Status", "Unavailable", "run_tool"]


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNAVAILABLE = "not available"


class Unavailable(Exception):
    """The checker's tool is missing; the message says which and how to install it."""

    @classmethod
    def python(cls, exc: ImportError) -> Unavailable:
        """A Python dependency of the `verify` extra is missing."""
        return cls(f"{exc.name or exc} is not installed; pip install 'hacompile[verify]'")


@dataclass(frozen=True)
class Outcome:
    """What one checker found; no findings means it passed. `summary` says what was checked."""

    findings: tuple[str, ...]
    summary: str = ""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    findings: tuple[str, ...] = ()
    detail: str = ""  # what was checked (passed/failed) or why it could not run
    seconds: float = 0.0


@dataclass
class Context:
    """One verify run: the bundle, a private scratch directory, and values checkers share.

    `cache` lets two checkers share expensive work (the Ansible rendering is used by the
    keepalived, haproxy and EIP checkers) without importing each other.
    """

    bundle: Path
    workdir: Path
    cache: dict[str, Any] = field(default_factory=dict)

    def rel(self, path: Path) -> str:
        """A path as the user should read it: relative to the bundle when inside it."""
        try:
            return path.relative_to(self.bundle).as_posix()
        except ValueError:
            return str(path)


def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a tool with a hard timeout, capturing text output; never raises on exit status."""
    try:
        return subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return subprocess.CompletedProcess(list(argv), 124, out, f"timed out after {timeout}s")
