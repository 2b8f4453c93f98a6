#!/bin/sh
# Base install for a fresh Debian 12 machine: hacompile itself with its test extras, and the
# Debian tools the core tests run for real (shellcheck on every emitted script).
# Idempotent and quiet; feature-specific tools come from .ci/install-<topic>.sh.
set -eu
PY=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

if ! command -v shellcheck >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends shellcheck curl >/dev/null
fi

"$PY" -m pip install -q "hatchling>=1.25"
"$PY" -m pip install -q -e ".[test]"
