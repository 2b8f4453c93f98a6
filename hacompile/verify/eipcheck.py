"""EIP-script checker: the bundle's hacompile-eip-claim, fed the env files Ansible renders, moves
the EIPs on an EC2 API (moto on 127.0.0.1, behind a fault-injecting proxy).

Why: the claim script is the only thing that moves traffic in a failover, and it is shell
calling the AWS CLI: only running it shows that the rendered settings (allocation, ENI, slot
IP) and the script agree. For each region the checker creates, in moto, what Terraform would:
a VPC, per LB an ENI with its management IP and one secondary "slot" IP per EIP, and the EIP
allocations; renders the env files with those IDs; then, per EIP, lets every LB claim it in
turn (master first) and checks that the EIP landed on that LB's ENI with its slot IP as the
requested private IP, that a second run makes no write, that throttling and 5xx answers are
retried through, and that an API that always fails makes the script give up within its time
budget, with the reason logged. moto ignores the requested private IP (see
hacompile.standins.moto), so the sent PrivateIpAddress is asserted at the proxy and the script
runs with HACOMPILE_EIP_PRIVATE_IP_CHECK=eni-only. A bundle's private VIPs (spec regions[].vips)
get their route tables and routes here too, and their holders' claims are run and checked by
hacompile.verify.vipcheck; the rig both use is hacompile.verify.claimrig.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from hacompile.standins.ansible_render import RenderError, render_bundle
from hacompile.standins.inventory import (
    EipFixture,
    HostFixture,
    LbHost,
    RegionFixture,
    bundle_regions,
    lb_hosts,
    vip_names,
)
from hacompile.verify.base import Context, Outcome, Unavailable
from hacompile.verify.claimrig import ClaimRig, Eni, Region, VipTables, claim_order, tail
from hacompile.verify.tools import executable
from hacompile.verify.vipcheck import create_vip_state, vip_job

__all__ = ["check_eip_scripts"]

CLAIM = "hacompile-eip-claim"
GIVE_UP_BUDGET = 4  # seconds: the budget written into the env file for the give-up scenario
# Process start-up and the last in-flight call. Generous because CI runs three verifies at once
# on two cores (one aws call took seconds there); without the budget the give-up run's eight
# attempts and their backoff would take over a minute, so 4 + 12 s still proves it is obeyed.
_BUDGET_SLACK = 12.0
# The transient-fault run proves retries, not timing: its budget is raised so that a loaded
# machine's slow aws calls cannot exhaust it (CI once spent the rendered 60 s in three attempts).
# It stays under ClaimRig's 180 s process timeout.
RETRY_BUDGET = 150


def _python_deps() -> None:
    try:
        import boto3  # noqa: F401
        import moto  # noqa: F401
    except ImportError as exc:
        raise Unavailable(
            f"{exc.name} is not installed; pip install 'moto[server]' boto3"
        ) from None


def _create_region(
    url: str, region: str, lbs: tuple[LbHost, ...]
) -> tuple[RegionFixture, dict[str, Eni], VipTables]:
    """What Terraform creates for `region`, in moto: VPC, subnets, ENIs with slots, EIPs, and
    for route VIPs their route tables and routes (hacompile.verify.vipcheck)."""
    from hacompile.standins.moto import ec2_client

    ec2 = ec2_client(url, region)
    nets = {lb.host: ipaddress.ip_network(f"{lb.management_ip}/24", strict=False) for lb in lbs}
    supernet = next(iter(nets.values())).supernet(new_prefix=16)
    vpc = ec2.create_vpc(CidrBlock=str(supernet))["Vpc"]["VpcId"]
    subnets: dict[str, str] = {}
    hosts: dict[str, HostFixture] = {}
    enis: dict[str, Eni] = {}
    for n, lb in enumerate(lbs):
        cidr = str(nets[lb.host])
        if cidr not in subnets:
            subnets[cidr] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
        eni = ec2.create_network_interface(
            SubnetId=subnets[cidr], PrivateIpAddress=lb.management_ip
        )["NetworkInterface"]
        slots = [i.slot_ip for i in lb.instances if i.strategy == "eip"]
        if slots:
            ec2.assign_private_ip_addresses(
                NetworkInterfaceId=eni["NetworkInterfaceId"], PrivateIpAddresses=slots
            )
        enis[lb.host] = Eni(str(eni["NetworkInterfaceId"]), str(eni["MacAddress"]).lower(), cidr)
        hosts[lb.host] = HostFixture(enis[lb.host].eni_id, f"i-{n:017x}", f"192.0.2.{10 + n}")
    eips = {}
    for name in sorted({i.name for lb in lbs for i in lb.instances if i.strategy == "eip"}):
        got = ec2.allocate_address(Domain="vpc")
        eips[name] = EipFixture(str(got["AllocationId"]), str(got["PublicIp"]))
    tables = create_vip_state(ec2, vpc, lbs, {h: e.eni_id for h, e in enis.items()})
    return RegionFixture(hosts, eips, vip_names(lbs), tables.own), enis, tables


def _budget_env(text: str, seconds: int) -> str:
    """The env file with its budget replaced; an env file without one is a rendering bug."""
    new, count = re.subn(
        r"^BUDGET_SECONDS='\d+'$", f"BUDGET_SECONDS='{seconds}'", text, flags=re.MULTILINE
    )
    if count != 1:
        raise ValueError(f"expected one BUDGET_SECONDS line in the env file, found {count}")
    return new


def _moves(ctx: Context, script: Path, aws: Path, region: Region, instance: str) -> list[str]:
    """Every LB holding `instance` claims it in turn (MASTER first); then a no-op re-run.

    Uses a proxy of its own, so EIPs can be checked concurrently.
    """
    from hacompile.standins.ec2fixture import association
    from hacompile.standins.faultproxy import FaultProxy

    found = []
    allocation = region.fixture.eips[instance].allocation_id
    order = claim_order(region.lbs, instance)
    with FaultProxy(region.url) as proxy:
        rig = ClaimRig(ctx, script, aws, proxy.url)
        for lb in order:
            where = f"{region.name}/{lb.lb.host}/{instance}"
            expected = region.enis[lb.lb.host].eni_id
            slot = next(i.slot_ip for i in lb.lb.instances if i.name == instance)
            proxy.clear()
            got = rig.run(lb, instance, region.name, region.imds[lb.lb.host])
            eni, _ = association(region.url, allocation, region.name)
            sent = [r.params.get("PrivateIpAddress") for r in proxy.calls("AssociateAddress")]
            if got.rc != 0 or eni != expected:
                found.append(
                    f"{where}: claim exited {got.rc}, EIP on {eni}, expected "
                    f"{expected}: {tail(got.log)}"
                )
                continue
            if sent[-1:] != [slot]:
                found.append(f"{where}: associate-address sent private IP {sent}, expected {slot}")
            if lb is order[-1]:  # the second run, once per EIP, must not write
                proxy.clear()
                again = rig.run(lb, instance, region.name, region.imds[lb.lb.host])
                writes = proxy.calls("AssociateAddress") + proxy.calls("DisassociateAddress")
                if again.rc != 0 or writes:
                    found.append(
                        f"{where}: second run exited {again.rc} with {len(writes)} "
                        f"write(s); expected a no-op: {tail(again.log)}"
                    )
    return found


def _faults(ctx: Context, script: Path, aws: Path, region: Region) -> list[str]:
    """Retries through transient faults; gives up within budget on a dead API, saying why."""
    from hacompile.standins.ec2fixture import association
    from hacompile.standins.faultproxy import Fault, FaultProxy

    found = []
    instance = sorted(region.fixture.eips)[0]
    order = claim_order(region.lbs, instance)
    first = order[0]
    with FaultProxy(region.url) as proxy:
        rig = ClaimRig(ctx, script, aws, proxy.url)
        where = f"{region.name}/{first.lb.host}/{instance}"
        # Transient faults: two throttled writes and a 500 on a read, then success.
        proxy.set_faults(
            [
                Fault.throttle("AssociateAddress", times=2),
                Fault.internal_error("DescribeAddresses", times=1),
            ]
        )
        text = _budget_env(first.eip_env[instance].read_text(encoding="utf-8"), RETRY_BUDGET)
        got = rig.run(first, instance, region.name, region.imds[first.lb.host], env_text=text)
        eni, _ = association(region.url, region.fixture.eips[instance].allocation_id, region.name)
        tries = len(proxy.calls("AssociateAddress"))
        if got.rc != 0 or eni != region.enis[first.lb.host].eni_id or tries < 3:
            found.append(
                f"{where}: with 2 throttled writes the claim exited {got.rc} after "
                f"{tries} associate-address call(s), EIP on {eni}: {tail(got.log)}"
            )
        # A permanently failing API: the claim must give up within its budget and say why.
        other = order[-1]
        proxy.set_faults([Fault.internal_error("*", times=None)])
        text = _budget_env(other.eip_env[instance].read_text(encoding="utf-8"), GIVE_UP_BUDGET)
        got = rig.run(other, instance, region.name, region.imds[other.lb.host], env_text=text)
        where = f"{region.name}/{other.lb.host}/{instance}"
        if got.rc == 0 or got.elapsed > GIVE_UP_BUDGET + _BUDGET_SLACK:
            found.append(
                f"{where}: with the API always failing the claim exited {got.rc} "
                f"after {got.elapsed:.1f}s (budget {GIVE_UP_BUDGET}s)"
            )
        elif "giving up" not in got.log and "budget" not in got.log:
            found.append(f"{where}: gave up (exit {got.rc}) without logging why: {tail(got.log)}")
    return found


def check_eip_scripts(ctx: Context) -> Outcome:
    """Run the bundle's EIP claim script with its rendered settings against moto."""
    _python_deps()
    aws = executable("aws")
    executable("ansible-playbook")
    script = ctx.bundle / "ansible" / "roles" / "keepalived" / "files" / CLAIM
    if not script.is_file():
        return Outcome((f"{ctx.rel(script)}: missing",))
    from hacompile.standins.imds import ImdsInterface, ImdsStub, imds_metadata
    from hacompile.standins.moto import MotoServer

    local = ctx.workdir / "eip-script"
    local.mkdir(parents=True, exist_ok=True)
    copy = local / CLAIM
    shutil.copy2(script, copy)
    copy.chmod(0o755)
    findings: list[str] = []
    claims = 0
    with ExitStack() as stack:
        moto = stack.enter_context(MotoServer(log_path=ctx.workdir / "moto.log"))
        fixtures: dict[str, RegionFixture] = {}
        enis: dict[str, dict[str, Eni]] = {}
        tables: dict[str, VipTables] = {}
        for region in bundle_regions(ctx.bundle):
            fixtures[region], enis[region], tables[region] = _create_region(
                moto.url, region, lb_hosts(ctx.bundle, region)
            )
        try:
            rendered = render_bundle(ctx.bundle, ctx.workdir / "rendered-moto", fixtures)
        except RenderError as exc:
            return Outcome((f"rendering the env files with Ansible failed: {exc}",))
        regions = []
        for name in fixtures:
            lbs = tuple(lb for lb in rendered if lb.lb.region == name)
            imds: dict[str, str] = {}
            for lb in lbs:
                eni = enis[name][lb.lb.host]
                ips = (lb.lb.management_ip, *(i.slot_ip for i in lb.lb.instances if i.slot_ip))
                metadata = imds_metadata([ImdsInterface(eni.mac, eni.eni_id, ips, eni.subnet_cidr)])
                imds[lb.lb.host] = stack.enter_context(ImdsStub(metadata)).url
            claims += sum(len(lb.eip_env) for lb in lbs)
            regions.append(
                Region(name, moto.url, lbs, enis[name], fixtures[name], imds, tables[name])
            )
        jobs = [(_moves, region, name) for region in regions for name in region.fixture.eips]
        jobs += [(vip_job, region, name) for region in regions for name in region.fixture.vips]
        with ThreadPoolExecutor(max_workers=3) as pool:
            for result in pool.map(lambda job: job[0](ctx, copy, aws, job[1], job[2]), jobs):
                findings += result
        if regions and regions[0].fixture.eips:
            findings += _faults(ctx, copy, aws, regions[0])
    vips = sum(len(region.fixture.vips) for region in regions)
    moved = f" (every holder of {vips} private VIP(s) included)" if vips else ""
    return Outcome(
        tuple(findings),
        f"{claims} env files claimed on moto{moved}; retry and give-up behaviour under "
        "injected faults",
    )
