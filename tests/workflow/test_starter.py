"""The starter spec passes the failover proof without a warning for every size and flavor."""

from __future__ import annotations

from pathlib import Path

import pytest

from hacompile.pipeline import check
from hacompile.starter import Choices, StarterError, render


@pytest.mark.parametrize("flavor", ["community", "hapee"])
@pytest.mark.parametrize("lbs", range(2, 9))
def test_starter_validates_cleanly(tmp_path: Path, lbs: int, flavor: str) -> None:
    spec = tmp_path / "ha.yaml"
    spec.write_text(render(Choices(lbs=lbs, flavor=flavor)))
    validated = check(spec)
    assert validated.warnings == ()
    assert validated.spec.load_balancers.count == lbs


@pytest.mark.parametrize(
    "choices",
    [Choices(name="Bad"), Choices(region="mars-1"), Choices(lbs=1), Choices(flavor="nginx")],
)
def test_starter_refuses_values_the_spec_would_reject(choices: Choices) -> None:
    with pytest.raises(StarterError):
        render(choices)
