"""The claim-script rig that `hacompile verify`'s EIP-script checker shares between its EIP
(hacompile.verify.eipcheck) and private-VIP (hacompile.verify.vipcheck) scenarios: one region's
moto resources and rendered load balancers, and a runner of the bundle's hacompile-eip-claim
with one LB's env file, run dir and IMDS stub."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hacompile.standins.ansible_render import RenderedLb
from hacompile.standins.inventory import RegionFixture
from hacompile.verify.base import Context, run_tool

__all__ = ["ClaimRig", "ClaimRun", "Eni", "Region", "VipTables", "claim_order", "tail"]


@dataclass(frozen=True)
class ClaimRun:
    rc: int
    elapsed: float
    log: str


@dataclass(frozen=True)
class Eni:
    eni_id: str
    mac: str
    subnet_cidr: str


@dataclass(frozen=True)
class VipTables:
    """One region's route tables in moto: the bundle's own, and the spec's named ones."""

    own: str = ""  # moto's ID of the bundle's own table ("" when no VIP uses it)
    named: Mapping[str, str] | None = None  # the spec's rtb ID -> moto's table standing in


@dataclass(frozen=True)
class Region:
    name: str
    url: str  # moto
    lbs: tuple[RenderedLb, ...]
    enis: Mapping[str, Eni]
    fixture: RegionFixture
    imds: Mapping[str, str]  # host -> IMDS stub URL
    tables: VipTables


class ClaimRig:
    """Runs the claim script for one LB with its own env dir, run dir and IMDS stub."""

    def __init__(self, ctx: Context, script: Path, aws: Path, proxy_url: str) -> None:
        self.ctx, self.script, self.aws, self.proxy_url = ctx, script, aws, proxy_url

    def run(
        self, lb: RenderedLb, instance: str, region: str, imds_url: str, env_text: str | None = None
    ) -> ClaimRun:
        from hacompile.standins.moto import aws_env

        base = self.ctx.workdir / "eip" / region / lb.lb.host
        eip_dir, run_dir, home = base / "etc", base / "run", base / "home"
        for directory in (eip_dir, run_dir, home):
            directory.mkdir(parents=True, exist_ok=True)
        eip_dir.chmod(0o755)
        target = eip_dir / f"{instance}.env"
        target.write_text(
            env_text if env_text is not None else lb.eip_env[instance].read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        target.chmod(0o644)
        env = {
            "PATH": f"{self.aws.parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            **aws_env(self.proxy_url, region),
            "HACOMPILE_EIP_DIR": str(eip_dir),
            "HACOMPILE_RUN_DIR": str(run_dir),
            "HACOMPILE_IMDS_URL": imds_url,
            "HACOMPILE_EIP_TRUST_UID": str(os.getuid()),
            "HACOMPILE_EIP_STDERR": "1",
            "HACOMPILE_EIP_BACKOFF_MS": "200",
            "HACOMPILE_EIP_PRIVATE_IP_CHECK": "eni-only",
            "HACOMPILE_LOG_SOCKET": str(base / "no-syslog.sock"),
        }
        start = time.monotonic()
        proc = run_tool([str(self.script), instance], env=env, timeout=180)
        return ClaimRun(proc.returncode, time.monotonic() - start, proc.stdout + proc.stderr)


def tail(log: str) -> str:
    return " | ".join(log.strip().splitlines()[-3:])


def claim_order(lbs: tuple[RenderedLb, ...], instance: str) -> list[RenderedLb]:
    """LBs holding `instance`, highest priority (its MASTER) first."""

    def priority(lb: RenderedLb) -> int:
        return next(i.priority for i in lb.lb.instances if i.name == instance)

    return sorted((lb for lb in lbs if instance in lb.eip_env), key=priority, reverse=True)
