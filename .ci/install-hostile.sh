#!/bin/sh
# What tests/hostile and tests/benchmarks_smoke need on a fresh Debian 12 machine, beyond the
# project's own dependencies. Idempotent and quiet. (The Ansible-rendered config check in
# tests/hostile/test_injection.py also uses the tools .ci/install-verify.sh installs: ansible,
# keepalived, haproxy.)
set -eu
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
PY=${PYTHON:-python3}

# setpriv (util-linux) runs the CLI as root without CAP_DAC_OVERRIDE for the unreadable-file
# case; shellcheck lints the rendered EIP env files and the bundle's scripts.
need=
for cmd in setpriv shellcheck; do
    command -v "$cmd" >/dev/null 2>&1 || need=1
done
if [ -n "$need" ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends util-linux shellcheck >/dev/null
fi

"$PY" -m pip install -q "hypothesis>=6.100" "python-hcl2==8.1.4" "PyYAML>=6"
