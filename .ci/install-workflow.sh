#!/bin/sh
# tests/workflow: `hacompile diff` output is applied with patch(1) to prove it is a real patch.
# Everything else those tests need (pytest, PyYAML, a pseudo-terminal) comes with the base install.
set -eu
export DEBIAN_FRONTEND=noninteractive
if ! command -v patch >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends patch >/dev/null
fi
