"""The lab tests need root, Linux and what .ci/install-lab.sh installs; without them they fail
with the lab's own message, which names each missing piece and its install command (CI must
not skip them silently)."""

from __future__ import annotations

import pytest

from hacompile.lab.prereqs import check_prerequisites


@pytest.fixture(scope="session")
def lab_ready() -> None:
    ready = check_prerequisites()
    if not ready.ok:
        pytest.fail(ready.message(), pytrace=False)


@pytest.fixture(scope="session")
def booted_ready() -> None:
    ready = check_prerequisites(booted=True)
    if not ready.ok:
        pytest.fail(ready.message(), pytrace=False)
