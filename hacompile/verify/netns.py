"""A throwaway network namespace for running keepalived against a rendered config.

Why: keepalived refuses a config whose `interface` does not exist and binds `unicast_src_ip`,
so it has to run where an interface of that name carries that address. Creating either in the
host's own namespace would touch the machine's network, so everything happens inside a
namespace created here (a veth pair, both ends inside it) and deleted on exit, also on error.
Commands run in a private mount namespace too (`unshare --mount`), so the bind mounts a check
makes (a tmpfs on /run, script stand-ins on /usr/local/sbin) never leak to the host.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from hacompile.verify.base import Unavailable, run_tool
from hacompile.verify.tools import executable

__all__ = ["Namespace"]


class Namespace:
    """`with Namespace() as ns:` creates hc-verify-<random>; deleted on exit."""

    def __init__(self, prefix: str = "hc-verify") -> None:
        self.name = f"{prefix}-{os.getpid()}-{secrets.token_hex(3)}"
        self._ip = ""
        self._created = False

    def __enter__(self) -> Self:
        if os.geteuid() != 0:
            raise Unavailable("needs root (network namespaces, bind mounts)")
        self._ip = str(executable("ip"))
        executable("unshare")
        self._run_ip("netns", "add", self.name)
        self._created = True
        try:
            self.ip("link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def _run_ip(self, *args: str) -> str:
        proc = run_tool([self._ip, *args], timeout=20)
        if proc.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def ip(self, *args: str) -> str:
        """`ip -n NS ARGS...`; raises on failure."""
        return self._run_ip("-n", self.name, *args)

    def veth(self, ifname: str, peer: str = "hcpeer0") -> None:
        """An up veth pair named `ifname`/`peer`, both ends inside the namespace."""
        self.ip("link", "add", ifname, "type", "veth", "peer", "name", peer)
        self.ip("link", "set", peer, "up")
        self.ip("link", "set", ifname, "up")

    def set_address(self, ifname: str, cidr: str) -> None:
        self.ip("addr", "flush", "dev", ifname)
        self.ip("addr", "add", cidr, "dev", ifname)

    def run(self, argv: Sequence[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run argv inside the namespace and a private mount namespace; never raises on status."""
        return run_tool(
            [
                "ip",
                "netns",
                "exec",
                self.name,
                "unshare",
                "--mount",
                "--propagation",
                "private",
                *argv,
            ],
            timeout=timeout,
        )

    def close(self) -> None:
        if self._created:
            run_tool([self._ip, "netns", "del", self.name], timeout=20)
            self._created = False

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
