"""The VPC router follows moto for private VIPs, without root: the cloud seeds moto as the
bundle's Terraform would, EC2 calls go through the fault proxy (on loopback) as the claims'
do, and `hacompile.lab.router` says where each VIP goes and which `ip route` commands follow.
The lab's topology gives the VPC client a subnet of its own, so it reaches VIPs only through
the router."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hacompile.lab import router
from hacompile.lab.cloud import LabFaultProxy, seed
from hacompile.lab.compile import compile_for_lab
from hacompile.lab.topology import build
from hacompile.standins.faultproxy import Fault, FaultProxy
from hacompile.standins.moto import MotoServer, ec2_client

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
CFG: dict[str, Any] = {
    "region": REGION,
    "vpc_cidr": "10.30.0.0/16",
    "subnets": ["10.30.1.0/24", "10.30.2.0/24"],
    "lbs": [
        {"key": "lb1", "ip": "10.30.1.10", "subnet_cidr": "10.30.1.0/24", "slots": ["10.30.1.11"]},
        {"key": "lb2", "ip": "10.30.2.10", "subnet_cidr": "10.30.2.0/24", "slots": ["10.30.2.11"]},
        {"key": "lb3", "ip": "10.30.1.14", "subnet_cidr": "10.30.1.0/24", "slots": ["10.30.1.15"]},
    ],
    "eips": [{"key": "eip1", "address": "198.18.1.11"}],
    "vips": [
        {"key": "api", "strategy": "route", "address": "172.31.255.10", "owner": "lb1"},
        {"key": "mesh", "strategy": "route", "address": "172.31.255.11", "owner": "lb2"},
        {"key": "db", "strategy": "secondary_ip", "address": "10.30.1.50", "owner": "lb1"},
    ],
}


@pytest.fixture
def cloud() -> Iterator[tuple[Any, Any, dict[str, Any], FaultProxy]]:
    """(moto's client, a client through the proxy, the seeded IDs, the proxy)."""
    with MotoServer() as moto, FaultProxy(moto.url) as proxy:
        ids = seed(moto.url, CFG)
        yield ec2_client(moto.url, REGION), ec2_client(proxy.url, REGION), ids, proxy


def _holders(cloud: tuple[Any, Any, dict[str, Any], FaultProxy]) -> dict[str, str]:
    ec2, _, ids, proxy = cloud
    eni_lb = {v["eni_id"]: k for k, v in ids["enis"].items()}
    return router.holders(ec2, CFG["vips"], ids["route_tables"], eni_lb, proxy.requests)


def test_seed_is_what_terraform_makes(cloud: tuple[Any, Any, dict[str, Any], FaultProxy]) -> None:
    ec2, _, ids, _ = cloud
    tables = ids["route_tables"]
    assert set(tables) == {"api", "mesh"} and tables["api"] == tables["mesh"]  # the own table
    (rt,) = ec2.describe_route_tables(RouteTableIds=tables["api"])["RouteTables"]
    routes = {r["DestinationCidrBlock"]: r for r in rt["Routes"]}
    assert routes["172.31.255.10/32"]["NetworkInterfaceId"] == ids["enis"]["lb1"]["eni_id"]
    assert routes["172.31.255.11/32"]["NetworkInterfaceId"] == ids["enis"]["lb2"]["eni_id"]
    assert routes["0.0.0.0/0"]["GatewayId"].startswith("igw-")
    assert len(rt["Associations"]) == 2  # both subnets
    enis = ec2.describe_network_interfaces()["NetworkInterfaces"]
    assert all(e["SourceDestCheck"] is False for e in enis)
    # A secondary-IP VIP exists nowhere until a claim assigns it.
    assert not any(
        a["PrivateIpAddress"] == "10.30.1.50" for e in enis for a in e["PrivateIpAddresses"]
    )
    assert _holders(cloud) == {"api": "lb1", "mesh": "lb2", "db": ""}


def test_route_vips_follow_the_route_table(
    cloud: tuple[Any, Any, dict[str, Any], FaultProxy],
) -> None:
    _, px, ids, _ = cloud
    table = ids["route_tables"]["api"][0]
    px.replace_route(
        RouteTableId=table,
        DestinationCidrBlock="172.31.255.10/32",
        NetworkInterfaceId=ids["enis"]["lb2"]["eni_id"],
    )
    assert _holders(cloud) == {"api": "lb2", "mesh": "lb2", "db": ""}
    px.delete_route(RouteTableId=table, DestinationCidrBlock="172.31.255.11/32")
    assert _holders(cloud)["mesh"] == ""  # no route: nowhere (a blackhole in the router)
    px.create_route(
        RouteTableId=table,
        DestinationCidrBlock="172.31.255.11/32",
        NetworkInterfaceId=ids["enis"]["lb1"]["eni_id"],
    )
    assert _holders(cloud)["mesh"] == "lb1"


def test_a_reassigned_secondary_ip_belongs_to_the_last_forwarded_call(
    cloud: tuple[Any, Any, dict[str, Any], FaultProxy],
) -> None:
    ec2, px, ids, proxy = cloud

    def assign(lb: str) -> None:
        px.assign_private_ip_addresses(
            NetworkInterfaceId=ids["enis"][lb]["eni_id"],
            PrivateIpAddresses=["10.30.1.50"],
            AllowReassignment=True,
        )

    assign("lb1")
    assert _holders(cloud)["db"] == "lb1"
    assign("lb3")
    # moto 5.2.1 still lists the address on lb1's interface: the holder is the last call's.
    listed = {
        e["NetworkInterfaceId"]
        for e in ec2.describe_network_interfaces()["NetworkInterfaces"]
        for a in e["PrivateIpAddresses"]
        if a["PrivateIpAddress"] == "10.30.1.50"
    }
    assert ids["enis"]["lb1"]["eni_id"] in listed
    assert _holders(cloud)["db"] == "lb3"
    # A call the proxy failed (throttled) moved nothing.
    proxy.set_faults([Fault.throttle("AssignPrivateIpAddresses", times=None)])
    with pytest.raises(Exception, match="RequestLimitExceeded"):
        assign("lb1")
    assert _holders(cloud)["db"] == "lb3"


def test_a_call_not_in_effect_yet_moves_nothing(
    cloud: tuple[Any, Any, dict[str, Any], FaultProxy],
) -> None:
    _, px, ids, proxy = cloud
    px.assign_private_ip_addresses(
        NetworkInterfaceId=ids["enis"]["lb1"]["eni_id"],
        PrivateIpAddresses=["10.30.1.50"],
        AllowReassignment=True,
    )
    # lb3's call as the proxy records it before forwarding: moto does not list it there yet.
    params = {
        "NetworkInterfaceId": ids["enis"]["lb3"]["eni_id"],
        "PrivateIpAddress.1": "10.30.1.50",
        "AllowReassignment": "true",
    }
    assert proxy.admit("AssignPrivateIpAddresses", params) is None
    assert "db" not in _holders(cloud)  # stays where it was (lb1), no blackhole in between


def test_the_lab_proxy_moves_a_reassigned_ip_as_ec2_does() -> None:
    """Without the release lb1's failback claim would find 10.30.1.50 still listed on its
    interface (moto 5.2.1), do nothing, and the VIP would never come home."""
    import threading

    with MotoServer() as moto:
        ids = seed(moto.url, CFG)
        enis = tuple(e["eni_id"] for e in ids["enis"].values())
        ec2 = ec2_client(moto.url, REGION)
        kick = threading.Event()
        with LabFaultProxy(moto.url, "127.0.0.1", 0, kick, REGION, enis) as proxy:
            px = ec2_client(proxy.url, REGION)

            def assign(lb: str) -> None:
                px.assign_private_ip_addresses(
                    NetworkInterfaceId=ids["enis"][lb]["eni_id"],
                    PrivateIpAddresses=["10.30.1.50"],
                    AllowReassignment=True,
                )

            def listed() -> set[str]:
                eni_lb = {v["eni_id"]: k for k, v in ids["enis"].items()}
                return {
                    eni_lb[e["NetworkInterfaceId"]]
                    for e in ec2.describe_network_interfaces()["NetworkInterfaces"]
                    for a in e["PrivateIpAddresses"]
                    if a["PrivateIpAddress"] == "10.30.1.50"
                }

            assign("lb1")
            assert listed() == {"lb1"} and kick.is_set()
            assign("lb3")
            assert listed() == {"lb3"}
            assign("lb1")  # the failback
            assert listed() == {"lb1"}
            proxy.set_faults([Fault.throttle("AssignPrivateIpAddresses", times=None)])
            with pytest.raises(Exception, match="RequestLimitExceeded"):
                assign("lb3")
            assert listed() == {"lb1"}  # a call EC2 refused moves nothing
            counted = {r.action for r in proxy.requests}
            assert counted == {"AssignPrivateIpAddresses"}  # the releases are not counted


def test_the_router_changes_a_route_only_when_the_holder_changes() -> None:
    ran: list[list[str]] = []
    r = router.Router(
        "hcl000000-br",
        {"api": "172.31.255.10", "db": "10.30.1.50"},
        {"lb1": "10.30.1.10", "lb3": "10.30.1.14"},
        run=ran.append,
    )
    assert r.follow({"api": "lb1", "db": ""}) == [
        ("api", "lb1", "10.30.1.10"),
        ("db", "", ""),
    ]
    assert ran == [
        ["ip", "-n", "hcl000000-br", "route", "replace", "172.31.255.10/32", "via", "10.30.1.10"],
        ["ip", "-n", "hcl000000-br", "route", "replace", "blackhole", "10.30.1.50/32"],
    ]
    assert r.follow({"api": "lb1", "db": ""}) == []
    assert r.follow({"api": "lb1", "db": "lb3"}) == [("db", "lb3", "10.30.1.14")]
    assert ran[-1][-3:] == ["10.30.1.50/32", "via", "10.30.1.14"]
    assert len(ran) == 3


@pytest.mark.parametrize("blueprint", ["internal-route-vip", "internal-secondary-ip"])
def test_the_vpc_client_has_a_subnet_of_its_own(tmp_path: Path, blueprint: str) -> None:
    plan = compile_for_lab(REPO / "blueprints" / f"{blueprint}.yaml", tmp_path / "b").plan
    topo = build(plan.regions[0], "hcl00beef", tmp_path)
    client = topo.host("vclient")
    net = ipaddress.ip_network(f"{client.ip}/{client.prefix}", strict=False)
    assert net.subnet_of(ipaddress.ip_network(topo.vpc_cidr))  # type: ignore[arg-type]
    others = [h for h in topo.hosts if h.kind in ("lb", "backend")]
    assert not any(ipaddress.ip_address(h.ip) in net for h in others)
    assert client.gateway == str(net.network_address + 1)
    assert f"{client.gateway}/24" in topo.router_ips
    assert {v.key: (v.owner, v.holders) for v in topo.vips} == {
        v.name: (v.master, v.holders) for v in plan.regions[0].vips
    }


def test_a_spec_without_vips_has_no_vpc_client(tmp_path: Path) -> None:
    plan = compile_for_lab(REPO / "blueprints" / "blog-aws-keepalived.yaml", tmp_path / "b").plan
    topo = build(plan.regions[0], "hcl00beef", tmp_path)
    assert topo.vips == () and all(h.kind != "vpcclient" for h in topo.hosts)


def test_a_vip_goes_only_to_its_holders(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from hacompile.lab.scenarios import Fault, expected_owners, rightful
    from hacompile.lab.vipcheck import holder_problems

    spec = REPO / "blueprints" / "internal-secondary-ip.yaml"
    plan = compile_for_lab(spec, tmp_path / "b").plan
    region = plan.regions[0]
    assert rightful(region) == {"eip1": "lb1", "eip2": "lb2", "eip3": "lb3", "db": "lb1"}
    lost = expected_owners(region, [Fault("lose-lb", "lb1")])
    assert lost["db"] == "lb3" and lost["eip1"] == "lb2"  # lb2 takes eip1, never db
    both = expected_owners(region, [Fault("lose-lb", "lb1"), Fault("lose-lb", "lb3")])
    assert both["db"] == ""  # every holder down: nobody may have it
    assert expected_owners(region, [Fault("partition", "lb1")])["db"] == "lb1"
    lab = SimpleNamespace(
        topo=build(region, "hcl00beef", tmp_path),
        ids={"enis": {k: {"eni_id": f"eni-{k}"} for k in ("lb1", "lb2", "lb3")}},
    )
    fine = {
        "moves": {"db": [[1.0, "lb3"]]},
        "vip_requests": [
            {
                "action": "AssignPrivateIpAddresses",
                "eni": "eni-lb3",
                "vip": "10.30.1.50",
                "failed": None,
            }
        ],
    }
    assert holder_problems(lab, fine) == []  # type: ignore[arg-type]
    bad = {
        "moves": {"db": [[1.0, "lb2"]]},
        "vip_requests": [
            {
                "action": "AssignPrivateIpAddresses",
                "eni": "eni-lb2",
                "vip": "10.30.1.50",
                "failed": None,
            }
        ],
    }
    assert holder_problems(lab, bad) == [  # type: ignore[arg-type]
        "db went to lb2 at +1.0s: not one of its holders",
        "lb2 asked EC2 for db (AssignPrivateIpAddresses)",
    ]
