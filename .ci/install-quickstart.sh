#!/bin/sh
# The README's quick start as a user runs it: `pip install .` (a wheel, no extras, no editable
# checkout on sys.path) into a venv of its own, which tests/test_quickstart.py then builds the
# blog blueprint with. The base install is editable and carries the test extras, so it cannot
# notice a template missing from the wheel or an import of a package that only the test
# extras happen to pull in. Recreated on every run, so it is exactly this checkout.
set -eu
cd "$(dirname "$0")/.."
TOOLS=${HACOMPILE_TOOLS_DIR:-/opt/hacompile-tools}
PY=${PYTHON:-python3}
VENV="$TOOLS/quickstart"
export PIP_DISABLE_PIP_VERSION_CHECK=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
mkdir -p "$TOOLS"
rm -rf "$VENV"
if ! { "$PY" -m venv "$VENV" && "$VENV/bin/pip" install -q . ; } >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
