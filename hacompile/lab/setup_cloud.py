"""The lab's shared cloud host: the EC2 API and edge (hacompile.lab.cloud) and each LB's
instance metadata service, all started in the cloud namespace.

Why apart from the Lab: both labs (namespaces and booted hosts) start these the same way, and
what they need is the topology and a directory, not the rest of the Lab. The caller keeps each
process the moment it is spawned (`Lab.procs`), so a start that fails half-way is still torn
down.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hacompile.lab import netns
from hacompile.lab.hosts import in_netns, log_tails, py_env, spawn
from hacompile.lab.netns import LabError
from hacompile.lab.topology import API_PORT, CLOUD_IP, Topology

__all__ = ["spawn_cloud", "spawn_imds", "wait_for_ids"]

CLOUD_START_SECONDS = 60


def spawn_cloud(
    topo: Topology, lab_dir: Path, existing: dict[str, Any] | None = None
) -> subprocess.Popen[str]:
    """Write cloud.json for `topo` and start the cloud host on it (not yet ready); with
    `existing` (hacompile.lab.byo.Existing.cloud_config) it first creates that network,
    publishes its IDs and waits for the go-ahead before it makes the LBs' interfaces."""
    cfg = {
        "region": topo.region,
        "vpc_cidr": topo.vpc_cidr,
        "subnets": sorted({lb.subnet_cidr for lb in topo.lbs}),
        "lbs": [
            {"key": lb.key, "ip": lb.ip, "subnet_cidr": lb.subnet_cidr, "slots": list(lb.slots)}
            for lb in topo.lbs
        ],
        "eips": [{"key": e.key, "address": e.address} for e in topo.eips],
        "vips": [
            {"key": v.key, "strategy": v.strategy, "address": v.address, "owner": v.owner}
            for v in topo.vips
        ],
        "edge_ns": topo.ns("edge"),
        "router_ns": topo.router_ns,
        "listen": CLOUD_IP,
        "port": API_PORT,
        "ids": str(lab_dir / "ids.json"),
        "events": str(lab_dir / "events.jsonl"),
        "socket": str(lab_dir / "cloud.sock"),
        "moto_log": str(lab_dir / "moto.log"),
        "max_seconds": 4 * 3600,
        "existing": existing,
        # tagged as the bundle's Terraform tags them, so that `hacompile status` finds them
        "tagging": topo.tagging.as_config() if topo.tagging else None,
    }
    (lab_dir / "cloud.json").write_text(json.dumps(cfg), encoding="utf-8")
    return spawn(
        in_netns(
            topo.ns("cloud"),
            [sys.executable, "-m", "hacompile.lab.cloud", str(lab_dir / "cloud.json")],
        ),
        lab_dir / "cloud.log",
        py_env(),
    )


def wait_for_ids(
    proc: subprocess.Popen[str], lab_dir: Path, name: str = "ids.json"
) -> dict[str, Any]:
    """The IDs the cloud host created (ENIs, instances, allocations; with name=existing.json
    the existing network's), once it has written them; LabError quoting its logs if it exits
    or takes too long first."""
    ids_file = lab_dir / name
    deadline = time.monotonic() + CLOUD_START_SECONDS
    while not ids_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            # The lab's directory goes with the teardown: quote the logs, do not point there.
            how = "timed out" if proc.poll() is None else f"exited {proc.poll()}"
            raise LabError(
                f"the cloud host did not start ({how}); "
                + log_tails(lab_dir / "cloud.log", lab_dir / "moto.log")
            )
        time.sleep(0.1)
    ids: dict[str, Any] = json.loads(ids_file.read_text(encoding="utf-8"))
    return ids


def spawn_imds(topo: Topology, d: Path, md: dict[str, str], index: int) -> subprocess.Popen[str]:
    """Start serving `md` as IMDSv2 to LB number `index` (DNAT by source in the cloud
    namespace), its files in `d`; the caller waits until it answers."""
    (d / "imds.json").write_text(json.dumps(md), encoding="utf-8")
    return spawn(
        in_netns(
            topo.ns("cloud"),
            [
                sys.executable,
                "-m",
                "hacompile.lab.daemons",
                "imds",
                str(d / "imds.json"),
                str(netns.imds_port(index)),
            ],
        ),
        d / "imds.log",
        py_env(),
        True,
    )
