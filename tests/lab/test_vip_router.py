"""The VPC router follows EC2 for private VIPs, in namespaces (root, no Keepalived): the lab's
network and cloud host for the route blueprint, the VIP put on both LBs' interfaces by hand
(as Keepalived would on a split brain), and the VPC client asking for it. Only the route the
cloud host installs from moto's route table decides who answers; the VPC client's subnet is its
own, so no ARP on a shared segment can stand in for it. Torn down by the run's prefix.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from hacompile.lab import netns
from hacompile.lab.compile import compile_for_lab
from hacompile.lab.hosts import in_netns
from hacompile.lab.setup import Lab
from hacompile.lab.topology import LAB_ROOT, new_prefix

pytestmark = [pytest.mark.lab, pytest.mark.root]

REPO = Path(__file__).resolve().parents[2]
ROUTE = REPO / "blueprints" / "internal-route-vip.yaml"
VIP = "172.31.255.10"


def _ask(lab: Lab) -> str:
    """Who answers the VIP for the VPC client ('' for nobody within 2 s)."""
    cmd = in_netns(lab.topo.ns("vclient"), ["curl", "-s", "--max-time", "2", f"http://{VIP}/"])
    return netns.sh(*cmd, check=False, timeout=10).strip()


def _until(lab: Lab, want: str, seconds: float = 5) -> str:
    deadline = time.monotonic() + seconds
    got = _ask(lab)
    while got != want and time.monotonic() < deadline:
        time.sleep(0.1)
        got = _ask(lab)
    return got


def test_the_vip_answers_where_the_route_table_points(lab_ready: None, tmp_path: Path) -> None:
    build = compile_for_lab(ROUTE, tmp_path / "bundle")
    prefix = new_prefix()
    lab = Lab(build.plan, build.bundle_dir, 0, prefix=prefix)
    try:
        lab.start_network()
        for key in ("lb1", "lb2"):
            ns = lab.topo.ns(key)
            netns.sh("ip", "-n", ns, "addr", "add", f"{VIP}/32", "dev", "eth0")
            lab.start_backend(key, 80)  # "backend lb1" on every address of lb1, the VIP too
        assert _until(lab, "backend lb1") == "backend lb1"  # seeded: the owner's ENI
        # The claim's own call, from lb2 (the proxy listens inside the cloud namespace).
        table = lab.ids["route_tables"]["api"][0]
        eni2 = lab.ids["enis"]["lb2"]["eni_id"]
        replace = [
            "/opt/hacompile-lab/awscli/bin/aws",
            "--endpoint-url",
            lab.topo.api_url,
            "ec2",
            "replace-route",
            "--route-table-id",
            table,
            "--destination-cidr-block",
            f"{VIP}/32",
            "--network-interface-id",
            eni2,
        ]
        env = ["env", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing"]
        env += [f"AWS_DEFAULT_REGION={lab.topo.region}", "AWS_EC2_METADATA_DISABLED=true"]
        netns.sh(*in_netns(lab.topo.ns("lb2"), [*env, *replace]), timeout=60)
        assert _until(lab, "backend lb2") == "backend lb2"
        route = netns.sh("ip", "-n", lab.topo.router_ns, "route", "show", f"{VIP}/32")
        assert "via 10.20.2.10" in route, route
        events = (lab.dir / "events.jsonl").read_text(encoding="utf-8")
        assert '"eip": "api", "lb": "lb2", "ip": "10.20.2.10", "vip": true' in events
        # The VIP leaves lb2's interface: nobody answers, although lb1 still has it (EC2
        # sends it to lb2, and the router follows EC2, not the interfaces).
        netns.sh("ip", "-n", lab.topo.ns("lb2"), "addr", "del", f"{VIP}/32", "dev", "eth0")
        assert _ask(lab) == ""
    finally:
        lab.close()
        netns.destroy(prefix)
        shutil.rmtree(LAB_ROOT / prefix, ignore_errors=True)
    assert netns.lab_namespaces(prefix) == []
