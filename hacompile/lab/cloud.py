"""The lab's "cloud" host: the EC2 API (moto behind a fault proxy) and the edge's EIP mapping.

Runs as `python -m hacompile.lab.cloud CONFIG.json` inside the cloud namespace. Why one process:
the EC2 API, the fault injection and the edge are one system in AWS too — an AssociateAddress
that EC2 accepted is what moves the public address. moto records associations but cannot route
its public IPs, so after every AssociateAddress the mapping is read back from moto and the edge
namespace's nftables DNAT map is updated (edge lab address -> slot IP), polled every 20 ms for
2 s after each call and every 0.5 s otherwise, so the edge follows moto within 100 ms. The
same loop makes the VPC router follow moto for private VIPs (hacompile.lab.router: route
tables, secondary-IP assignments), woken by ReplaceRoute, CreateRoute and
AssignPrivateIpAddresses.

moto 5.2.1 reports an ENI's primary IP instead of the associated private IP, so the slot comes
from the last AssociateAddress the proxy forwarded for that ENI (or the plan's slot for it).
The controller talks to this process over a unix socket (filesystem sockets cross network
namespaces); it writes one JSON line per EIP or VIP move to the events file (`eip`: the
instance name; a VIP's line also has `"vip": true`). The same socket stores
the lab's certificate versions in moto's Secrets Manager and SSM (`secret`), before the deploy
and for rotations, as an operator's tooling would.
"""

from __future__ import annotations

import json
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hacompile.lab import existing_net, router
from hacompile.lab.cloudproxy import LabFaultProxy
from hacompile.lab.cloudseed import seed
from hacompile.standins.faultproxy import Fault
from hacompile.standins.moto import MotoServer, ec2_client

EDGE_TABLE = "hclab"


def put_secret(endpoint: str, region: str, req: Mapping[str, Any]) -> str:
    """Store `req["value"]` as the current version of a Secrets Manager secret or an SSM
    SecureString (`req["store"]`, `req["name"]`), creating it the first time: what an
    operator's rotation does. Returns the new version's ID (or number)."""
    import boto3

    client = boto3.client(
        req["store"],
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name, value = req["name"], req["value"]
    if req["store"] == "ssm":
        got = client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        return str(got["Version"])
    try:
        return str(client.put_secret_value(SecretId=name, SecretString=value)["VersionId"])
    except client.exceptions.ResourceNotFoundException:
        return str(client.create_secret(Name=name, SecretString=value)["VersionId"])


class Cloud:
    def __init__(
        self, cfg: Mapping[str, Any], moto_url: str, ids: Mapping[str, Any], proxy: LabFaultProxy
    ) -> None:
        self.cfg, self.moto_url, self.ids, self.proxy = cfg, moto_url, ids, proxy
        self.mapping: dict[str, str] = {}  # eip key -> lb key ('' = unassociated)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.eni_lb = {v["eni_id"]: k for k, v in ids["enis"].items()}
        self.alloc_eip = {v["allocation_id"]: k for k, v in ids["eips"].items()}
        self.vips = list(cfg.get("vips", []))
        self.router = router.Router(
            cfg.get("router_ns", ""),
            {v["key"]: v["address"] for v in self.vips},
            {lb["key"]: lb["ip"] for lb in cfg["lbs"]},
        )

    def edge_rules(self) -> None:
        nft = (
            f"table ip {EDGE_TABLE} {{\n"
            "  map eips { type ipv4_addr : ipv4_addr; }\n"
            "  chain pre { type nat hook prerouting priority -100; "
            "dnat to ip daddr map @eips; }\n"
            "  chain out { type nat hook output priority -100; dnat to ip daddr map @eips; }\n"
            "  chain post { type nat hook postrouting priority 100; "
            f"ip daddr {self.cfg['vpc_cidr']} masquerade; }}\n}}\n"
        )
        self._nft(["-f", "-"], nft)

    def _nft(self, args: list[str], stdin: str | None = None) -> None:
        subprocess.run(
            ["ip", "netns", "exec", self.cfg["edge_ns"], "nft", *args],
            input=stdin,
            text=True,
            check=True,
            timeout=10,
            capture_output=True,
        )

    def sync(self, ec2: Any) -> None:
        addrs = ec2.describe_addresses()["Addresses"]
        sent = {}  # (alloc, eni) -> last private IP sent through the proxy
        for req in self.proxy.calls("AssociateAddress"):
            if req.failed_with is None:
                key = (req.params.get("AllocationId"), req.params.get("NetworkInterfaceId"))
                sent[key] = req.params.get("PrivateIpAddress", "")
        for addr in addrs:
            eip = self.alloc_eip.get(addr.get("AllocationId", ""))
            if eip is None:
                continue
            eni = addr.get("NetworkInterfaceId") or ""
            lb = self.eni_lb.get(eni, "")
            index = [e["key"] for e in self.cfg["eips"]].index(eip)
            lbcfg = next((x for x in self.cfg["lbs"] if x["key"] == lb), None)
            slot = sent.get((addr["AllocationId"], eni)) or (lbcfg["slots"][index] if lbcfg else "")
            if self.mapping.get(eip) == lb:
                continue
            address = self.cfg["eips"][index]["address"]
            # One nft transaction: two commands left the address unmapped for a few ms, and a
            # connection opened then reached no node (refused), one failed request per move
            # that the lab made and EC2 does not (found by the rolling maintenance, issue 17).
            script = ""
            if self.mapping.get(eip):
                script += f"delete element ip {EDGE_TABLE} eips {{ {address} }}\n"
            if slot:
                script += f"add element ip {EDGE_TABLE} eips {{ {address} : {slot} }}\n"
            if script:
                self._nft(["-f", "-"], script)
            self._moved(eip, lb, slot)
        if self.vips:
            self.sync_vips(ec2)

    def sync_vips(self, ec2: Any) -> None:
        """The router follows EC2 for every private VIP (hacompile.lab.router)."""
        wanted = router.holders(
            ec2, self.vips, self.ids["route_tables"], self.eni_lb, self.proxy.requests
        )
        for key, lb, via in self.router.follow(wanted):
            self._moved(key, lb, via, vip=True)

    def _moved(self, key: str, lb: str, ip: str, vip: bool = False) -> None:
        """Record that address `key` (an EIP or a VIP, by instance name) now reaches `lb`
        (at `ip`: the slot, or a VIP's next hop): the mapping and one events line."""
        with self.lock:
            self.mapping[key] = lb
        row: dict[str, Any] = {"t": time.time(), "eip": key, "lb": lb, "ip": ip}
        if vip:
            row["vip"] = True
        with open(self.cfg["events"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")

    def sync_loop(self) -> None:
        ec2 = ec2_client(self.moto_url, self.cfg["region"])
        deadline = time.monotonic() + float(self.cfg["max_seconds"])
        fast_until = 0.0
        while not self.stop.is_set() and time.monotonic() < deadline:
            if self.proxy.kick.is_set():
                self.proxy.kick.clear()
                fast_until = time.monotonic() + 2.0
            try:
                self.sync(ec2)
            except Exception as exc:  # keep following; the controller sees the log
                print(f"cloud: sync failed: {exc}", file=sys.stderr, flush=True)
            if time.monotonic() < fast_until:
                time.sleep(0.02)
            else:
                self.proxy.kick.wait(0.5)
        self.stop.set()

    def control(self, req: Mapping[str, Any]) -> Any:
        op = req.get("op")
        if op == "faults":
            self.proxy.set_faults([Fault(**f) for f in req["faults"]])
            return {"ok": True}
        if op == "calls":
            reqs = self.proxy.requests
            return {
                "total": len(reqs),
                "calls": [
                    {
                        "action": r.action,
                        "alloc": r.params.get("AllocationId", ""),
                        "eni": r.params.get("NetworkInterfaceId", ""),
                        "ip": r.params.get("PrivateIpAddress", ""),
                        # a VIP call's address: the route's destination, or the assigned IP
                        "vip": r.params.get("DestinationCidrBlock", "").removesuffix("/32")
                        or r.params.get("PrivateIpAddress.1", ""),
                        "failed": r.failed_with,
                        "t": round(r.t, 3),  # for the report's timeline: who claimed when
                        "lb": self.eni_lb.get(r.params.get("NetworkInterfaceId", ""), ""),
                        "eip": self.alloc_eip.get(r.params.get("AllocationId", ""), ""),
                    }
                    for r in reqs[int(req.get("since", 0)) :]
                ],
            }
        if op == "state":
            with self.lock:
                return {"mapping": dict(self.mapping)}
        if op == "ping":
            return {"ok": True}
        if op == "network":  # straight to moto: not one of the API calls the lab counts
            return existing_net.describe(ec2_client(self.moto_url, self.cfg["region"]))
        if op == "secret":
            return {"version": put_secret(self.moto_url, self.cfg["region"], req)}
        return {"error": f"unknown op {op!r}"}


def serve(cloud: Cloud, path: str) -> socketserver.ThreadingUnixStreamServer:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline()
            try:
                answer = cloud.control(json.loads(line))
            except Exception as exc:
                answer = {"error": str(exc)}
            self.wfile.write(json.dumps(answer).encode() + b"\n")

    server = socketserver.ThreadingUnixStreamServer(path, Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    return server


def main(argv: list[str]) -> int:
    cfg = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    kick = threading.Event()
    with MotoServer(log_path=Path(cfg["moto_log"])) as moto:
        existing = None
        if cfg.get("existing"):
            existing = existing_net.create(ec2_client(moto.url, cfg["region"]), cfg["existing"])
            _publish(existing, Path(cfg["existing"]["created"]))
            _wait_for(Path(cfg["existing"]["go"]), float(cfg["existing"]["go_seconds"]))
        ids = seed(moto.url, cfg, existing)
        secondary = any(v["strategy"] == "secondary_ip" for v in cfg.get("vips", []))
        enis = tuple(e["eni_id"] for e in ids["enis"].values()) if secondary else ()
        listen, port = cfg["listen"], int(cfg["port"])
        with LabFaultProxy(moto.url, listen, port, kick, cfg["region"], enis) as proxy:
            cloud = Cloud(cfg, moto.url, ids, proxy)
            cloud.edge_rules()
            server = serve(cloud, cfg["socket"])
            _publish(ids, Path(cfg["ids"]))
            try:
                cloud.sync_loop()
            finally:
                server.shutdown()
                server.server_close()
    return 0


def _publish(data: Any, path: Path) -> None:
    """Write JSON for the controller atomically: it polls for the file to exist."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.rename(path)


def _wait_for(path: Path, seconds: float) -> None:
    """Wait (bounded) for the controller's go-ahead: it compiles the spec's copy with the
    existing network's IDs before the load balancers' interfaces are made."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"cloud: no go-ahead ({path}) within {seconds:.0f}s")
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
