#!/bin/sh
# Installs every tool `hacompile verify` and tests/verify use, on a fresh Debian 12 machine.
# Idempotent and quiet. Tools that would clash with hacompile's own Python deps (checkov pins
# bc-python-hcl2; ansible-lint pins its own stack) live in their own venvs under
# $HACOMPILE_TOOLS_DIR (default /opt/hacompile-tools), where hacompile/verify/tools.py finds them.
set -eu
TOOLS=${HACOMPILE_TOOLS_DIR:-/opt/hacompile-tools}
PY=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

# --- Debian packages: the real keepalived/haproxy/shellcheck, and ip(8) for network namespaces.
need=
for cmd in keepalived haproxy shellcheck ip; do
    command -v "$cmd" >/dev/null 2>&1 || need=1
done
if [ -n "$need" ]; then
    # Package installs must not start the daemons on this machine.
    policy=/usr/sbin/policy-rc.d
    saved=
    if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends keepalived haproxy shellcheck iproute2 >/dev/null
    if [ -n "$saved" ]; then mv "$saved" "$policy"; else rm -f "$policy"; fi
fi

# --- Python deps hacompile verify imports in-process (the `verify` extra), plus moto for tests.
"$PY" -m pip install -q "python-hcl2==8.1.4" "parliament==1.6.4" "yamllint>=1.35" \
    "moto[server]==5.2.1" "awscli==1.45.11" "boto3"

# --- checkov in its own venv.
if ! "$TOOLS/checkov/bin/checkov" --version >/dev/null 2>&1; then
    "$PY" -m venv "$TOOLS/checkov"
    "$TOOLS/checkov/bin/pip" install -q "checkov==3.3.30"
fi

# --- ansible (bundles amazon.aws) and ansible-lint in their own venv.
if ! "$TOOLS/ansible/bin/ansible-lint" --version >/dev/null 2>&1; then
    "$PY" -m venv "$TOOLS/ansible"
    "$TOOLS/ansible/bin/pip" install -q "ansible==12.3.0" "ansible-lint==26.10.1"
fi

# --- HashiCorp's HCL parser and formatter (WebAssembly builds) for node.
if [ ! -d "$TOOLS/npm/node_modules/@cdktn/hcl-tools" ] ||
    [ ! -d "$TOOLS/npm/node_modules/@cdktn/hcl2json" ]; then
    mkdir -p "$TOOLS/npm"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/npm" \
        "@cdktn/hcl-tools@0.24.0" "@cdktn/hcl2json@0.24.0" >/dev/null
fi
