"""Shared helpers for the benchmark scripts: run a whole process, measure wall time and peak
memory (from the kernel's rusage of that one child, via wait4), describe the machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def env() -> dict[str, str]:
    """The user's environment, plus the checkout on PYTHONPATH when hacompile is not installed."""
    out = dict(os.environ)
    out.pop("PYTHONDONTWRITEBYTECODE", None)  # measure with bytecode caches, as users run it
    try:
        import hacompile  # noqa: F401
    except ImportError:
        out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), out.get("PYTHONPATH")]))
    else:
        out.setdefault("PYTHONPATH", str(REPO))
    return out


@dataclass(frozen=True)
class Sample:
    seconds: float  # wall clock
    cpu_seconds: float  # user + system time of the process: robust against other load
    max_rss_kb: int


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    environ: dict[str, str] | None = None,
    timeout: float = 300,
    expect: Sequence[int] = (0,),
) -> Sample:
    """Run one process to completion; raise if its exit status is not in `expect`."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), cwd=cwd, env=environ or env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            raise TimeoutError(" ".join(argv))
        time.sleep(0.0005)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in expect:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{stderr[-2000:]}")
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, int(usage.ru_maxrss))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPUs{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()} ({sys.executable})"
    )
