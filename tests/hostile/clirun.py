"""Run the real CLI (`python -m hacompile ...`) in a subprocess with hard resource limits.

The limits are the "bounded time and memory" of the hostile-input tests: a hang or a blow-up
hits RLIMIT_CPU / RLIMIT_AS and the process dies with a signal or a MemoryError traceback, which
the tests report as a failure. No timing assertions: the bounds are generous on purpose.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CPU_SECONDS = 30
ADDRESS_SPACE = 1 << 30  # 1 GiB of virtual memory; the compiler needs well under 100 MB resident
WALL_SECONDS = 120
LOCATED = re.compile(
    r"^(?P<file>.+):(?P<line>[1-9][0-9]*):(?P<col>[1-9][0-9]*): "
    r"(?P<severity>error|warning): (?P<rest>.+)$"
)
COUNT = re.compile(r"^[0-9]+ errors?$")


@dataclass(frozen=True)
class CliResult:
    rc: int
    stdout: str
    stderr: str

    def problems(self) -> list[str]:
        """Why this is not a clean spec error (exit 2, located lines, no traceback)."""
        found = []
        if self.rc != 2:
            found.append(f"exit status {self.rc}, expected 2")
        if "Traceback" in self.stderr or "Traceback" in self.stdout:
            found.append("a traceback was printed")
        lines = self.stderr.splitlines()
        if not lines or not COUNT.match(lines[-1]):
            found.append("stderr does not end with the error count")
        for line in lines[:-1]:
            if not LOCATED.match(line):
                found.append(f"not a FILE:LINE:COL diagnostic: {line!r}")
        if self.stdout.strip():
            found.append(f"unexpected stdout: {self.stdout[:200]!r}")
        return found


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_cli(args: Sequence[str], *, cwd: Path, prefix: Sequence[str] = ()) -> CliResult:
    """`python -m hacompile ARGS` under resource limits; `prefix` wraps it (e.g. setpriv)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "hacompile", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limits,  # no threads run in this process before the fork
    )
    try:
        out, err = proc.communicate(timeout=WALL_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(
            f"hacompile {' '.join(args)} ran longer than {WALL_SECONDS}s"
        ) from None
    return CliResult(
        proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    )
