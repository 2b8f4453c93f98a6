"""Lab pieces that need neither root nor namespaces: addresses, expected owners, outages, the
report and the CLI's refusals."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hacompile.cli import app
from hacompile.lab import prereqs
from hacompile.lab.observe import Probe, outage
from hacompile.lab.report import aggregate, table
from hacompile.lab.scenarios import MATRIX, expected_owners, resolve, select
from hacompile.lab.topology import EIP_NET, SERVICE_NET, build
from hacompile.pipeline import compile_spec

REPO = Path(__file__).resolve().parents[2]
BLOG = REPO / "blueprints" / "blog-aws-keepalived.yaml"
THREE = REPO / "blueprints" / "three-lb-existing-backends.yaml"


def region(path: Path):  # type: ignore[no-untyped-def]
    return compile_spec(path).plan.regions[0]


def test_topology_follows_the_plan_addresses() -> None:
    reg = region(BLOG)
    topo = build(reg, "hcl000001")
    for lb in reg.load_balancers:
        host = topo.host(lb.key)
        assert host.ip == lb.private_ip and host.ns == f"hcl000001-{lb.key}"
        net = ipaddress.ip_network(f"{host.ip}/{host.prefix}", strict=False)
        assert host.gateway == str(net.network_address + 1)  # the VPC router's address
        assert f"{host.gateway}/{host.prefix}" in topo.router_ips
    assert [b.ip for b in topo.backends] == [s.address for s in reg.servers]
    assert all(ipaddress.ip_address(e.address) in EIP_NET for e in topo.eips)
    for name in ("edge", "client", "cloud"):
        assert ipaddress.ip_address(topo.host(name).ip) in SERVICE_NET
    assert len({h.ip for h in topo.hosts}) == len(topo.hosts)


def test_existing_backends_get_a_routed_net_and_dns_names_a_free_address() -> None:
    topo = build(region(THREE), "hcl000002")
    by_name = {b.name: b for b in topo.backends}
    assert by_name["app1"].ip == "10.60.20.11"
    assert "10.60.20.1/24" in topo.router_ips  # backend net outside every LB subnet
    app3 = by_name["app3"]
    assert app3.address == "app3.internal.example.com" and app3.port == 8443
    assert ipaddress.ip_address(app3.ip) in ipaddress.ip_network("10.60.20.0/24")
    assert app3.ip not in {"10.60.20.11", "10.60.20.12", "10.60.20.1"}


def test_bad_prefix_is_refused() -> None:
    with pytest.raises(ValueError):
        build(region(BLOG), "hcl-nope")


def test_expected_owners_follow_the_priority_ladder() -> None:
    reg = region(THREE)
    rightful = {e.key: e.master for e in reg.eips}
    assert expected_owners(reg, []) == rightful
    two = next(s for s in MATRIX if s.name == "two-failures")
    faults = resolve(reg, two)
    assert [f.lb for f in faults] == ["lb1", "lb2"]  # lb2 inherits eip1 first
    assert expected_owners(reg, faults[:1]) == {"eip1": "lb2", "eip2": "lb2", "eip3": "lb3"}
    assert expected_owners(reg, faults) == {"eip1": "lb3", "eip2": "lb3", "eip3": "lb3"}
    split = next(s for s in MATRIX if s.name == "split-brain")
    assert expected_owners(reg, resolve(reg, split)) == rightful


def test_matrix_selection() -> None:
    assert "two-failures" not in [s.name for s in select(None, 2)]
    assert "two-failures" in [s.name for s in select(None, 3)]
    with pytest.raises(ValueError, match="unknown scenario"):
        select(["nope"], 2)


def test_outage_counts_gaps_between_successes() -> None:
    ok = [Probe(t / 10, True) for t in range(10)]
    assert outage(ok, 0.0).failed == 0
    rows = [*ok[:3], Probe(0.3, False), Probe(0.4, False), *ok[5:]]
    got = outage(rows, 0.0)
    assert got.failed == 2 and got.downtime == pytest.approx(0.3)
    assert got.serving_again == pytest.approx(0.5)
    # Intermittent: two short blips are two short gaps, not one long outage.
    blips = [*ok[:2], Probe(0.2, False), *ok[3:7], Probe(0.7, False), *ok[8:]]
    got = outage(blips, 0.0)
    assert got.downtime == pytest.approx(0.4) and got.longest == pytest.approx(0.2)
    down = [*ok[:2], Probe(0.2, False), Probe(0.3, False)]
    assert outage(down, 0.0).downtime == pytest.approx(0.2)  # still failing at the end


def test_report_table_and_aggregate() -> None:
    result = {
        "scenario": "haproxy-killed",
        "passed": True,
        "problems": [],
        "inject": {
            "eip_moved_s": {"eip1": 2.0},
            "downtime_s": {"eip1": 2.5, "eip2": 0},
            "serving_again_s": {"eip1": 2.6},
            "associate_calls": 1,
        },
        "heal": {"eip_moved_s": {"eip1": 12.0}, "downtime_s": {}, "associate_calls": 1},
    }
    lines = table([result])
    assert "haproxy-killed" in lines[2] and "2.50" in lines[2] and "PASS" in lines[2]
    agg = aggregate(
        [result, {**result, "inject": {**result["inject"], "downtime_s": {"eip1": 1.5}}}]
    )
    assert agg["haproxy-killed"]["downtime_s"] == {"min": 1.5, "median": 2.0, "max": 2.5, "n": 2}


def test_lab_refuses_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prereqs.os, "geteuid", lambda: 1000)
    result = CliRunner().invoke(app, ["lab", str(BLOG)])
    assert result.exit_code == 2
    assert "needs root" in result.output


def test_lab_refuses_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prereqs.platform, "system", lambda: "Darwin")
    result = CliRunner().invoke(app, ["lab", "--cleanup"])
    assert result.exit_code == 2
    assert "needs Linux" in result.output


def test_lab_help_names_every_day2_procedure() -> None:
    """The option's help is hand-written (the CLI imports no lab module at start-up): it must
    not fall behind hacompile.lab.booted.day2.PROCEDURES."""
    from hacompile.lab.booted.day2 import PROCEDURES

    result = CliRunner().invoke(app, ["lab", "--help"], env={"COLUMNS": "400"})
    text = re.sub(r"-\s+", "-", " ".join(result.output.split()))  # rich wraps at hyphens
    missing = [name for name in PROCEDURES if name not in text]
    assert not missing, text
