"""Cost of a spec at every bound, and of refusing one past them (issue 11).

Whole-process `hacompile validate` (and `build` for the specs that are valid), median of N
runs each, next to a baseline measured in the same run: the smallest valid spec. Rows:

    baseline      2 load balancers, the default checks, one region
    checks@bound  8 load balancers x 8 checks, one region (the failover proof's worst layout)
    all@bound     8 regions x 6 zones x 8 LBs x 8 checks (64 LB instances, the bound), 16
                  frontends, 64 existing backends per region, 20 SSH and 20 stats CIDRs, 40
                  tags; each region's subnets in another order, so no two regions share a
                  layout and the proof runs 8 times (the proof's worst valid spec)
    regions@bound 32 regions x 2 LBs x 64 existing backends (the parser's worst valid spec)
    lbs+1         9 regions x 8 LBs: refused by the rules before the proof
    checks+1      9 checks: refused by the model
    10k frontends / 10k backends / 10k checks: refused by the loader at item 65
    1 MB comment  the largest file the size limit admits (ruamel's parse cost per byte)
    330 KB cube   40 x 64 x 64 nested scalars: refused by the loader's value budget

Prints the medians, peak RSS and the ratio to the baseline. Not a test: nothing asserts;
figures go in docs/hostile-input.md ("Bounds").

    python benchmarks/bounds.py            # 5 runs per row
    python benchmarks/bounds.py --runs 1
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _proc import machine, median, run
from scaling import region_names

BASE: dict[str, Any] = {
    "version": 1,
    "name": "bench",
    "regions": [
        {"name": "us-east-1", "vpc_cidr": "10.0.0.0/16", "zones": ["us-east-1a", "us-east-1b"]}
    ],
    "backends": {"demo": {"count": 2}},
    "access": {"ssh_key_name": "bench", "ssh_cidrs": ["203.0.113.0/24"]},
}


def _checks(count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": "chk_haproxy", "process": "haproxy", "weight": 0}]
    out += [
        {"name": f"chk_p{i}", "process": f"proc{i}", "weight": -1 - i % 3} for i in range(count - 1)
    ]
    return out


def checks_at_bound(checks: int = 8) -> dict[str, Any]:
    return {
        **BASE,
        "load_balancers": {"count": 8, "instance_type": "c5.xlarge"},
        "keepalived": {
            "priority": {"master": 150, "backup": 100, "step": 5},
            "checks": _checks(checks),
        },
    }


def all_at_bound(regions_: int = 8, lbs: int = 8) -> dict[str, Any]:
    orders = itertools.permutations(range(6))
    regions = []
    for i, name in enumerate(region_names(regions_)):
        order = next(orders) if i else tuple(range(6))
        for _ in range(7):  # spread the permutations: neighbours differ in more places
            order = next(orders, order)
        regions.append(
            {
                "name": name,
                "vpc_cidr": f"10.{i}.0.0/16",
                "zones": [
                    {"name": f"{name}{z}", "subnet_cidr": f"10.{i}.{order[k] + 1}.0/24"}
                    for k, z in enumerate("abcdef")
                ],
                "backends": [
                    {"name": f"b{b}", "address": f"10.{i}.100.{10 + b}"} for b in range(64)
                ],
            }
        )
    spec = checks_at_bound()
    spec["load_balancers"] = {**spec["load_balancers"], "count": lbs}
    return {
        **spec,
        "regions": regions,
        "backends": {"port": 8080},
        "haproxy": {
            "frontends": [{"name": f"f{k}", "port": 8000 + k} for k in range(16)],
            "stats": {"cidrs": [f"198.51.{k}.0/24" for k in range(20)]},
        },
        "access": {"ssh_key_name": "bench", "ssh_cidrs": [f"203.0.{k}.0/24" for k in range(20)]},
        "tags": {f"tag{k}": "x" for k in range(40)},
    }


def regions_at_bound() -> dict[str, Any]:
    return all_at_bound(32, 2)


def over(kind: str) -> dict[str, Any]:
    if kind == "lbs+1":
        return all_at_bound(9, 8)
    if kind == "frontends":
        return {
            **BASE,
            "haproxy": {"frontends": [{"name": f"f{k}", "port": 1000 + k} for k in range(10_000)]},
        }
    if kind == "backends":
        region = {
            **BASE["regions"][0],
            "backends": [
                {"name": f"b{k}", "address": f"10.0.{100 + k // 250}.{1 + k % 250}"}
                for k in range(10_000)
            ],
        }
        return {**BASE, "regions": [region], "backends": {"port": 80}}
    return checks_at_bound(10_000 if kind == "checks" else 9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per row (default 5)")
    args = parser.parse_args()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="hacompile-bounds-"))
    rows: list[tuple[str, dict[str, Any] | str, bool]] = [
        ("baseline", BASE, True),
        ("checks@bound", checks_at_bound(), True),
        ("all@bound", all_at_bound(), True),
        ("regions@bound", regions_at_bound(), True),
        ("lbs+1", over("lbs+1"), False),
        ("checks+1", over("checks+1"), False),
        ("10k frontends", over("frontends"), False),
        ("10k backends", over("backends"), False),
        ("10k checks", over("checks"), False),
        ("1 MB comment", "version: 1\n" + ("#" + "x" * 99 + "\n") * 9_990, False),
        ("330 KB cube", "version: 1\nregions: " + json.dumps([[[1] * 64] * 64] * 40), False),
    ]
    results = []
    try:
        for label, content, valid in rows:
            path = tmp / f"{label.replace(' ', '_').replace('@', '_')}.yaml"
            path.write_text(
                content if isinstance(content, str) else json.dumps(content), encoding="utf-8"
            )
            commands = [("validate", [py, "-m", "hacompile", "validate", "-q", str(path)])]
            if valid:
                commands.append(
                    (
                        "build",
                        [py, "-m", "hacompile", "build", "-q", str(path), "-o", str(tmp / "out")],
                    )
                )
            for command, argv in commands:
                walls, rss = [], []
                for _ in range(args.runs):
                    shutil.rmtree(tmp / "out", ignore_errors=True)
                    sample = run(argv, expect=(0,) if valid else (2,))
                    walls.append(sample.seconds)
                    rss.append(sample.max_rss_kb)
                results.append((label, command, path.stat().st_size, median(walls), max(rss)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"machine: {machine()}")
    print(f"whole-process runs, median of {args.runs} per row\n")
    base = {cmd: s for label, cmd, _, s, _ in results if label == "baseline"}
    print(
        f"{'spec':<14} {'command':<9} {'bytes':>8} {'median':>9} {'x baseline':>10} {'peak RSS':>9}"
    )
    for label, cmd, size, seconds, rss in results:
        print(
            f"{label:<14} {cmd:<9} {size:>8} {seconds:>8.2f}s {seconds / base[cmd]:>9.1f}x "
            f"{rss / 1024:>7.1f}MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
