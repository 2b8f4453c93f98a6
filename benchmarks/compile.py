"""Compile speed next to interpreter start-up: is the compiler's own work small?

Prints the median wall time (and peak RSS) over repeated whole-process runs of

    floor     python -c "import pydantic, jinja2, ruamel.yaml, typer"   (the runtime deps)
    deps      python -c "..."  the parts of those packages validate cannot run without
    stack     deps + the spec's pydantic models built + the spec parsed by ruamel (no hacompile
              logic: the least any validate on this stack can cost)
    stack+jinja  the same plus `import jinja2`: the least any build can cost
    --help    python -m hacompile --help
    validate  python -m hacompile validate SPEC
    build     python -m hacompile build SPEC -o TMP   (a fresh directory each run)
    rebuild   python -m hacompile build SPEC -o SAME  (unchanged output: nothing written)

each with its ratio to the floor (information), and the targets (issue 12):

    validate <= 1.10x stack         build <= 1.25x stack+jinja

with hacompile's own work: validate minus stack, build minus stack+jinja. rebuild's ratio to
stack+jinja is printed as information.
Why the targets are ratios to `stack`, not to the floor: pydantic 2 imports lazily, so the
floor's `import pydantic` loads pydantic-core but not BaseModel and its schema machinery, which
any pydantic model needs, and the floor parses nothing. The `stack` row runs none of
hacompile's logic (it imports the spec model's declarations, which builds their validators,
and parses the spec with ruamel's round-trip loader) and already costs ~1.4x the floor, above
the old floor-based targets (--help and validate <= 1.15x floor, build and rebuild <= 1.3x)
before hacompile does anything: those could not be met while the stack is pydantic and ruamel
(issue 6 ended blocked on that), so they are gone; the x floor column stays as information.
Runs are interleaved (floor, help, validate, build, floor, ...) so drift in machine load hits
every command alike. Not a test: nothing asserts; see docs/performance.md.

    python benchmarks/compile.py                 # 21 rounds, the blog blueprint
    python benchmarks/compile.py --runs 5 --spec blueprints/community-multi-region.yaml
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _proc import REPO, machine, median, run

FLOOR = "import pydantic, jinja2, ruamel.yaml, typer"
# What validate needs of its dependencies, and nothing of hacompile.
DEPS = (
    "import typer, ruamel.yaml\n"
    "from pydantic import AfterValidator, BaseModel, Field, StringConstraints, TypeAdapter"
)
# DEPS + building the spec model's validators + the round-trip parse that gives positions.
STACK = (
    "import sys, typer\n"
    "from ruamel.yaml import YAML\n"
    "import hacompile.spec.model\n"
    "with open(sys.argv[1], encoding='utf-8') as f:\n"
    "    YAML(typ='rt', pure=True).load(f.read())"
)
# command -> the row its ratio is taken against; a target is a bound on that ratio (wall medians)
BASELINES = {"validate": "stack", "build": "stack+jinja", "rebuild": "stack+jinja"}
TARGETS = {"validate": 1.10, "build": 1.25}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="rounds (default 21)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured rounds (default 2)")
    parser.add_argument(
        "--spec", type=Path, default=REPO / "blueprints" / "blog-aws-keepalived.yaml"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="hacompile-bench-"))
    commands = {
        "floor": [py, "-c", FLOOR],
        "deps": [py, "-c", DEPS],
        "stack": [py, "-c", STACK, str(args.spec)],
        "stack+jinja": [py, "-c", STACK + "\nimport jinja2", str(args.spec)],
        "--help": [py, "-m", "hacompile", "--help"],
        "validate": [py, "-m", "hacompile", "validate", str(args.spec)],
        "build": [py, "-m", "hacompile", "build", str(args.spec), "-o", ""],
        # the edit-build loop: the same output directory, nothing to write
        "rebuild": [py, "-m", "hacompile", "build", str(args.spec), "-o", str(tmp / "same")],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[int]] = {name: [] for name in commands}
    try:
        for round_ in range(args.warmup + args.runs):
            for name, argv in commands.items():
                if name == "build":
                    out = tmp / f"out{round_}"
                    argv = [*argv[:-1], str(out)]
                sample = run(argv)
                if name == "build":
                    shutil.rmtree(out, ignore_errors=True)
                if round_ >= args.warmup:
                    times[name].append(sample.seconds)
                    cpu[name].append(sample.cpu_seconds)
                    rss[name].append(sample.max_rss_kb)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    floor = median(times["floor"])
    floor_cpu = median(cpu["floor"])
    rows = []
    for name in commands:
        value = median(times[name])
        baseline = BASELINES.get(name)
        base_ratio = None if baseline is None else value / median(times[baseline])
        target = TARGETS.get(name)
        rows.append(
            {
                "command": name,
                "median_ms": round(value * 1000, 1),
                "ratio": round(value / floor, 3),  # x floor: information
                "baseline": baseline,
                "baseline_ratio": None if base_ratio is None else round(base_ratio, 3),
                "target": target,
                "meets_target": (
                    None if target is None or base_ratio is None else base_ratio <= target
                ),
                "cpu_median_ms": round(median(cpu[name]) * 1000, 1),
                "cpu_ratio": round(median(cpu[name]) / floor_cpu, 3),
                "cpu_baseline_ratio": (
                    None
                    if baseline is None
                    else round(median(cpu[name]) / median(cpu[baseline]), 3)
                ),
                "peak_rss_mb": round(max(rss[name]) / 1024, 1),
            }
        )
    # hacompile's own work: what it adds to the least its stack costs (build also renders
    # with Jinja, so its stack imports Jinja too).
    by_name = {row["command"]: row["median_ms"] for row in rows}
    own = {
        "validate_ms": round(by_name["validate"] - by_name["stack"], 1),
        "build_ms": round(by_name["build"] - by_name["stack+jinja"], 1),
    }
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine(),
                    "runs": args.runs,
                    "spec": str(args.spec),
                    "results": rows,
                    "own_work": own,
                },
                indent=2,
            )
        )
        return 0
    print(f"machine: {machine()}")
    print(f"spec: {args.spec}  rounds: {args.runs} (+{args.warmup} warm-up), medians\n")
    print(
        f"{'command':<11} {'wall':>9} {'x floor':>8} {'x base':>7} {'base':>11} {'target':>7}"
        f" {'cpu':>9} {'x base':>7} {'peak RSS':>9}"
    )
    for row in rows:
        target = f"<={row['target']:.2f}" if row["target"] else ""
        mark = "" if row["meets_target"] is None else ("  ok" if row["meets_target"] else "  MISS")
        base_ratio = f"{row['baseline_ratio']:.3f}x" if row["baseline"] else ""
        cpu_base = f"{row['cpu_baseline_ratio']:.3f}x" if row["baseline"] else ""
        print(
            f"{row['command']:<11} {row['median_ms']:>7.1f}ms {row['ratio']:>7.2f}x "
            f"{base_ratio:>7} {row['baseline'] or '':>11} {target:>7} "
            f"{row['cpu_median_ms']:>7.1f}ms {cpu_base:>7} {row['peak_rss_mb']:>7.1f}MB{mark}"
        )
    print(
        f"\nhacompile's own work: validate - stack = {own['validate_ms']:.1f} ms, "
        f"build - stack+jinja = {own['build_ms']:.1f} ms"
    )
    verdicts = [
        f"{row['command']} {row['baseline_ratio']:.3f}x {row['baseline']} "
        f"(target <= {row['target']:.2f}x): {'met' if row['meets_target'] else 'MISSED'}"
        for row in rows
        if row["target"] is not None
    ]
    print("targets: " + "; ".join(verdicts))
    print(
        "\nwall: median elapsed time; cpu: median user+system time of the process (less "
        "sensitive\nto other load on the machine); x base: the ratio to the row named in base; "
        "ok/MISS\ncompares the wall ratio to base with the target. x floor is information.\n"
        "deps/stack: the least the runtime dependencies cost when used (see the docstring)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
