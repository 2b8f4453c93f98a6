"""How compile cost grows with the spec: regions x demo backends (x load balancers).

Generates specs with 1, 10 and 32 regions and 3 -> 1,000 demo backends per region (2 load
balancers), plus 8 regions x 8 load balancers (the 64-instance bound), and for each prints the
median wall time and the peak RSS of a whole `hacompile build` process, the bundle's size, and
the cost per output byte, which stays flat when the cost is linear in the size of what is
generated. Not a test.

    python benchmarks/scaling.py              # 3 runs per row
    python benchmarks/scaling.py --runs 1 --quick
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _proc import machine, median, run

_AREAS = ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"]
_DIRECTIONS = ["east", "west", "north", "south", "central", "southeast", "northeast"]
ROWS = [
    (1, 3, 2),
    (1, 100, 2),
    (1, 1000, 2),
    (10, 3, 2),
    (10, 100, 2),
    (10, 1000, 2),
    (32, 3, 2),
    (32, 100, 2),
    (32, 1000, 2),
    (8, 3, 8),
]
QUICK = [(1, 3, 2), (2, 10, 2), (2, 3, 8)]


def region_names(count: int) -> list[str]:
    """Distinct names of AWS's shape (area-direction-N); real ones first."""
    names = [f"{a}-{d}-{n}" for n in (1, 2, 3) for a in _AREAS for d in _DIRECTIONS]
    return names[:count]


def spec(regions: int, backends: int, lbs: int) -> dict[str, Any]:
    """A valid spec: /16 VPC per region, three /22 subnets (room for 1,000 demo backends), an
    instance type whose ENI takes `lbs` + 1 addresses."""
    return {
        "version": 1,
        "name": "scale",
        "regions": [
            {
                "name": name,
                "vpc_cidr": f"10.{i}.0.0/16",
                "zones": [
                    {"name": f"{name}{z}", "subnet_cidr": f"10.{i}.{4 * k}.0/22"}
                    for k, z in enumerate("abc")
                ],
            }
            for i, name in enumerate(region_names(regions))
        ],
        "load_balancers": {"count": lbs, "instance_type": "t3.small" if lbs <= 3 else "t3.large"},
        "backends": {"port": 80, "demo": {"count": backends}},
        "haproxy": {"frontends": [{"name": "http", "port": 80}]},
        "keepalived": {
            "priority": {"master": 110, "backup": 100, "step": 5},
            "checks": [
                {"name": "chk_haproxy", "process": "haproxy", "weight": 50},
                {"name": "chk_gw", "gateway": True},
            ],
        },
        "access": {"ssh_key_name": "bench", "ssh_cidrs": ["203.0.113.0/24"]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per row (default 3)")
    parser.add_argument("--quick", action="store_true", help="three rows only (smoke test)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="hacompile-scaling-"))
    results = []
    try:
        for regions, backends, lbs in QUICK if args.quick else ROWS:
            path = tmp / f"r{regions}-b{backends}-l{lbs}.yaml"
            path.write_text(json.dumps(spec(regions, backends, lbs)), encoding="utf-8")
            walls, rss = [], []
            out = tmp / "out"
            for _ in range(args.runs):
                shutil.rmtree(out, ignore_errors=True)
                sample = run([py, "-m", "hacompile", "build", str(path), "-o", str(out)])
                walls.append(sample.seconds)
                rss.append(sample.max_rss_kb)
            files = [p for p in out.rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            results.append(
                {
                    "regions": regions,
                    "backends_per_region": backends,
                    "load_balancers": lbs,
                    "spec_bytes": path.stat().st_size,
                    "median_s": round(median(walls), 3),
                    "peak_rss_mb": round(max(rss) / 1024, 1),
                    "files": len(files),
                    "output_mb": round(size / 1e6, 2),
                }
            )
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        print(json.dumps({"machine": machine(), "runs": args.runs, "results": results}, indent=2))
        return 0
    print(f"machine: {machine()}")
    print(f"whole-process `hacompile build`, median of {args.runs} run(s) per row\n")
    print(
        f"{'regions':>7} {'backends':>8} {'LBs':>4} {'time':>8} {'peak RSS':>9} {'files':>6} "
        f"{'output':>8} {'ms/MB out':>10}"
    )
    base = results[0]["median_s"]
    for row in results:
        extra = (row["median_s"] - base) * 1000 / max(row["output_mb"], 0.001)
        per_mb = f"{extra:>10.0f}" if row is not results[0] else f"{'-':>10}"
        print(
            f"{row['regions']:>7} {row['backends_per_region']:>8} {row['load_balancers']:>4} "
            f"{row['median_s']:>7.2f}s {row['peak_rss_mb']:>7.1f}MB {row['files']:>6} "
            f"{row['output_mb']:>6.2f}MB {per_mb}"
        )
    print(
        "\nms/MB out: time above the smallest row per MB of bundle written; roughly constant "
        "when\ncompile cost is linear in output size."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
