"""What the lab puts on a host before Ansible runs: the cloud image's part of the deal.

Why: for the HAPEE flavour the bundle installs nothing (the HAProxy Enterprise Marketplace AMI
ships `hapee-<v>-lb` and `hapee-extras-vrrp`) and for every flavour the image has files that
point at the lab (package sources, resolver, SSH key) instead of at AWS. HAPEE itself cannot
be had here, so its units are Debian's haproxy and keepalived under HAPEE's names, paths,
process names and accounts; the bundle's roles then drive them exactly as on the AMI.
"""

from __future__ import annotations

import shlex

from hacompile.plan.model import Flavor

DEBIAN_HAPROXY, DEBIAN_KEEPALIVED = "/usr/sbin/haproxy", "/usr/sbin/keepalived"


def first_boot_files(
    hostname: str, controller: str, http_port: int, public_key: str, login_home: str
) -> dict[str, tuple[str, int]]:
    """Files of a fresh host: name, resolver, package sources, the deploy key."""
    mirror = f"http://{controller}:{http_port}"
    return {
        "/etc/hostname": (hostname + "\n", 0o644),
        "/etc/hosts": (f"127.0.0.1 localhost\n127.0.1.1 {hostname}\n", 0o644),
        "/etc/resolv.conf": (f"nameserver {controller}\n", 0o644),
        "/etc/apt/sources.list": (f"deb [trusted=yes] {mirror}/debian ./\n", 0o644),
        "/etc/pip.conf": (
            f"[global]\nno-index = true\nfind-links = {mirror}/wheels/\n"
            f"trusted-host = {controller}\n",
            0o644,
        ),
        f"{login_home}/.ssh/authorized_keys": (public_key, 0o600),
    }


def drop_in(unit: str, env: dict[str, str]) -> tuple[str, tuple[str, int]]:
    """A systemd drop-in giving `unit` (and the scripts it runs) the lab's environment."""
    lines = "".join(f"Environment={shlex.quote(f'{k}={v}')}\n" for k, v in sorted(env.items()))
    return (
        f"/etc/systemd/system/{unit}.d/hacompile-lab.conf",
        ("# hacompile lab: point the EIP scripts at the lab's cloud\n[Service]\n" + lines, 0o644),
    )


def hapee_script(flavor: Flavor) -> str:
    """Shell run once on a fresh HAPEE-flavour host: Debian's daemons as the AMI's units."""
    if flavor.name != "hapee":
        return ""
    hap_dir = flavor.haproxy_config.rsplit("/", 1)[0]
    ka_dir = flavor.keepalived_config.rsplit("/", 1)[0]
    run_dir = flavor.haproxy_socket.rsplit("/", 1)[0].replace("/var/run/", "")
    q = shlex.quote
    return "\n".join(
        (
            "set -eu",
            "export DEBIAN_FRONTEND=noninteractive",
            "apt-get update -qq",
            "apt-get install -y -qq haproxy keepalived >/dev/null",
            "systemctl disable --now haproxy keepalived >/dev/null 2>&1 || true",
            f"getent group {q(flavor.haproxy_group)} >/dev/null || groupadd --system "
            f"{q(flavor.haproxy_group)}",
            f"id {q(flavor.haproxy_user)} >/dev/null 2>&1 || useradd --system --gid "
            f"{q(flavor.haproxy_group)} --no-create-home --shell /usr/sbin/nologin "
            f"{q(flavor.haproxy_user)}",
            f"mkdir -p {q(flavor.haproxy_binary.rsplit('/', 1)[0])} "
            f"{q(flavor.keepalived_binary.rsplit('/', 1)[0])} {q(hap_dir)} {q(ka_dir)}",
            # A link, so the process is named as on the AMI (pgrep -x hapee-lb finds it).
            f"ln -sf {DEBIAN_HAPROXY} {q(flavor.haproxy_binary)}",
            f"ln -sf {DEBIAN_KEEPALIVED} {q(flavor.keepalived_binary)}",
            f"cp /etc/haproxy/haproxy.cfg {q(flavor.haproxy_config)}",
            f"sed -e 's#{DEBIAN_HAPROXY}#{flavor.haproxy_binary}#g' "
            f"-e 's#/etc/haproxy/haproxy.cfg#{flavor.haproxy_config}#g' "
            f"-e 's#^\\[Service\\]#[Service]\\nRuntimeDirectory={run_dir}#' "
            f"/lib/systemd/system/haproxy.service "
            f">/etc/systemd/system/{flavor.haproxy_service}.service",
            f"sed -e 's#{DEBIAN_KEEPALIVED}#{flavor.keepalived_binary} -f "
            f"{flavor.keepalived_config}#' -e 's#/etc/keepalived/keepalived.conf#"
            f"{flavor.keepalived_config}#g' /lib/systemd/system/keepalived.service "
            f">/etc/systemd/system/{flavor.keepalived_service}.service",
            "systemctl daemon-reload",
            f"systemctl enable --now {q(flavor.haproxy_service)} >/dev/null",
            f"systemctl enable {q(flavor.keepalived_service)} >/dev/null",
            "",
        )
    )
