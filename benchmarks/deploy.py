"""Deploy benchmark: the booted-host rehearsal's converge and idempotence times, per-host memory
and disk, N repetitions per blueprint; medians (min-max) and ratios against a baseline measured
in the same run.

    sudo python benchmarks/deploy.py [SPEC ...] [--repeat N] [--results FILE]

Defaults: the blog and the 3-LB blueprints, 1 repetition each (a repetition builds a lab, boots
its hosts, converges, runs the play again and checks the tier: 2-3 minutes on 2 cores). The
baseline is `ansible all -m ping` over the same SSH path right after the deploy (every host
reached once: SSH, sudo, Python start-up), so "converge / ping" says how many such round trips
a deploy costs on this machine, whatever else it is doing. Timing lives here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hacompile.lab.main import run_lab  # noqa: E402
from hacompile.lab.prereqs import check_prerequisites  # noqa: E402

DEFAULT = (
    ROOT / "blueprints" / "blog-aws-keepalived.yaml",
    ROOT / "blueprints" / "three-lb-existing-backends.yaml",
)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def summarise(name: str, reports: list[dict[str, Any]]) -> list[str]:
    conv = [r["converge"]["seconds"] for r in reports]
    idem = [r["idempotence"]["seconds"] for r in reports]
    ping = [r["ping"]["seconds"] for r in reports]
    mem = [h["memory_mib"] for r in reports for h in r["hosts"].values() if h["memory_mib"]]
    disk = [h["disk_mib"] for r in reports for h in r["hosts"].values()]
    hosts = len(reports[0]["hosts"])
    passed = sum(r["passed"] for r in reports)
    return [
        f"| {name} | {hosts} | {spread(conv)} | {spread(idem)} | {spread(ping)} | "
        f"{statistics.median(conv) / statistics.median(ping):.1f} | "
        f"{statistics.median(idem) / statistics.median(ping):.1f} | "
        f"{spread(mem)} | {spread(disk)} | {passed}/{len(reports)} |"
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path, default=list(DEFAULT))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--results",
        type=Path,
        metavar="FILE",
        help="Also write every deploy report, as JSON, to this file.",
    )
    args = parser.parse_args()
    ready = check_prerequisites(booted=True)
    if not ready.ok:
        print(f"error: {ready.message()}", file=sys.stderr)
        return 2
    results: dict[str, list[dict[str, Any]]] = {}
    for spec in args.specs:
        for rep in range(args.repeat):
            print(f"== {spec.name} {rep + 1}/{args.repeat}", flush=True)
            run = run_lab(spec, scenarios=[], booted=True, say=lambda line: print(line, flush=True))
            assert run.deploy is not None
            results.setdefault(spec.stem, []).append(run.deploy)
    print("\nseconds and MiB, medians (min-max); ratios against `ansible all -m ping`\n")
    print(
        "| blueprint | hosts | converge | idempotence | ping (baseline) | converge/ping | "
        "idempotence/ping | memory per host | disk per host | checks passed |"
    )
    print("|---" * 10 + "|")
    for name, reports in results.items():
        print("\n".join(summarise(name, reports)))
    if args.results:
        args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["passed"] for rs in results.values() for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
