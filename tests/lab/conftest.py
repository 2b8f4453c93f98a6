"""The lab tests need root, Linux and the tools .ci/install-lab.sh installs; without them they
fail with that message (CI must not skip them silently)."""

from __future__ import annotations

import pytest

from hacompile.lab.main import preflight


@pytest.fixture(scope="session")
def lab_ready() -> None:
    problem = preflight()
    if problem:
        pytest.fail(f"{problem}; run .ci/install-lab.sh (as root)", pytrace=False)
