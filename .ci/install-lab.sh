#!/bin/sh
# Installs what `hacompile lab` and tests/lab need beyond .ci/install-verify.sh (which provides
# moto, boto3 and Ansible), on a fresh Debian 12 machine. Idempotent and quiet.
set -eu
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
PY=${PYTHON:-python3}
AWSCLI_VENV=${HACOMPILE_LAB_AWSCLI_VENV:-/opt/hacompile-lab/awscli}
REPO=$(cd "$(dirname "$0")/.." && pwd)

# --- Debian packages: the real keepalived/haproxy, namespaces (iproute2, util-linux), the
# edge's DNAT (nftables), and what the bundle's scripts call (curl, ping, pgrep, flock, logger).
need=
for cmd in keepalived haproxy ip nft unshare nsenter setpriv curl ping pgrep flock logger; do
    command -v "$cmd" >/dev/null 2>&1 || need=1
done
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || need=1
if [ -n "$need" ]; then
    # Package installs must not start keepalived or haproxy in the root namespace.
    policy=/usr/sbin/policy-rc.d
    saved=
    if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends keepalived haproxy iproute2 nftables \
        util-linux procps curl iputils-ping bsdutils python3 python3-venv >/dev/null
    if [ -n "$saved" ]; then mv "$saved" "$policy"; else rm -f "$policy"; fi
fi

# --- hacompile's `lab` extra: moto's server and boto3 for the lab's cloud host (the pins live
# in pyproject.toml, shared with the `verify` extra).
"$PY" -m pip install -q -e "$REPO[lab]"

# --- The AWS CLI the EIP scripts call, in a venv of Debian's python3 that the unprivileged
# script user can execute (as the keepalived role does on the instances).
if ! "$AWSCLI_VENV/bin/aws" --version >/dev/null 2>&1; then
    /usr/bin/python3 -m venv "$AWSCLI_VENV"
    "$AWSCLI_VENV/bin/pip" install -q "awscli==1.45.11"
fi

# --- keepalived's script_user (the role creates it on the instances).
id hacompile-vrrp >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin hacompile-vrrp

# --- Booted hosts (hacompile lab --booted): mmdebstrap builds the hosts' Debian 12 image, and
# systemd-nspawn boots it. systemd-container is unpacked, not installed: installing it would
# upgrade this machine's own systemd packages to match. dpkg-deb (dpkg) indexes the mirror.
NSPAWN_DIR=${HACOMPILE_LAB_NSPAWN_DIR:-/opt/hacompile-lab/nspawn}
if ! command -v mmdebstrap >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq mmdebstrap openssh-client >/dev/null
fi
if [ ! -x "$NSPAWN_DIR/usr/bin/systemd-nspawn" ] && ! command -v systemd-nspawn >/dev/null 2>&1; then
    debs=$(mktemp -d)
    (cd "$debs" && apt-get download -qq systemd-container 2>/dev/null) ||
        { apt-get update -qq && (cd "$debs" && apt-get download -qq systemd-container); }
    mkdir -p "$NSPAWN_DIR"
    dpkg -x "$debs"/systemd-container_*.deb "$NSPAWN_DIR"
    rm -rf "$debs"
fi

# --- Headless Chromium renders `hacompile lab --report`'s page to a screenshot in
# tests/lab/test_htmlreport.py (the `tools` test; ~110 MB download, ~35 s here).
if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
