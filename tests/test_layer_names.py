"""Each layer names its own classes (issue 12): a spec model ends in `Spec`, a plan record does
not, and no class name is used by both. When `Check`, `Region`, `HAProxy`, `Keepalived` and
`Frontend` were both pydantic spec models and plan NamedTuples, an import line did not say
which layer a module worked on. The defaults of a spec that lists no checks are spec objects,
said once in hacompile.spec.defaults; the planner plans them like listed checks."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from hacompile.pipeline import compile_spec
from hacompile.plan import model as plan_model
from hacompile.spec import defaults
from hacompile.spec import model as spec_model
from hacompile.spec import security as spec_security
from hacompile.spec.model import Spec

BASES = {"Strict", "_Strict"}  # configuration only: no section of ha.yaml, not in the schema


def _defined_in(module: ModuleType) -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and obj.__module__ == module.__name__
    }


def _reachable(model: type[BaseModel], seen: dict[str, type]) -> dict[str, type]:
    """Every model a spec is made of: the field annotations, unwrapped, all the way down."""
    seen[model.__name__] = model

    def walk(tp: Any) -> None:
        if inspect.isclass(tp) and issubclass(tp, BaseModel):
            if tp.__name__ not in seen:
                _reachable(tp, seen)
            return
        for arg in get_args(tp):
            walk(arg)

    for field in model.model_fields.values():
        walk(field.annotation)
    return seen


def _spec_models() -> dict[str, type]:
    models = {
        name: cls
        for module in (spec_model, spec_security)
        for name, cls in _defined_in(module).items()
        if issubclass(cls, BaseModel) and name not in BASES
    }
    return {**models, **_reachable(Spec, {})}


def test_every_spec_model_ends_in_spec() -> None:
    models = _spec_models()
    assert {"RegionSpec", "CheckSpec", "FlowLogsSpec", "EgressRuleSpec"} <= set(models)
    assert sorted(name for name in models if not name.endswith("Spec")) == []


def test_no_plan_record_shares_or_borrows_a_spec_name() -> None:
    records = set(_defined_in(plan_model))
    assert {"Region", "Check", "HAProxy", "Keepalived", "Frontend", "FlowLogs"} <= records
    assert sorted(records & set(_spec_models())) == []
    assert sorted(name for name in records if name.endswith("Spec")) == []


def _spec(tmp_path: Path, lines: str) -> Path:
    path = tmp_path / "ha.yaml"
    path.write_text(
        "version: 1\nname: web\n"
        "regions: [{name: us-east-1, vpc_cidr: 10.0.0.0/16, zones: [us-east-1a, us-east-1b]}]\n"
        "backends: {demo: {count: 2}}\n"
        f"{lines}"
        "access: {ssh_key_name: k, ssh_cidrs: [203.0.113.0/24]}\n"
    )
    return path


@pytest.mark.parametrize(
    "flavor,process",
    [("community", "haproxy"), ("hapee", "hapee-lb")],
)
def test_a_spec_without_checks_plans_the_spec_layers_defaults(
    tmp_path: Path, flavor: str, process: str
) -> None:
    code = ", ami_product_code: 483gxnuft87jy44d3q8n4kvt1" if flavor == "hapee" else ""
    plan = compile_spec(_spec(tmp_path, f"load_balancers: {{flavor: {flavor}{code}}}\n")).plan
    expected = defaults.default_checks(process)
    assert [c.name for c in expected] == ["chk_haproxy", "chk_sshd", "chk_gw"]
    planned = [
        (c.name, c.process, c.kind == "gateway", c.interval, c.weight, c.fall, c.rise)
        for c in plan.keepalived.checks
    ]
    assert planned == [
        (c.name, c.process or "", c.gateway, c.interval, c.weight, c.fall, c.rise) for c in expected
    ]


def test_listed_checks_replace_the_defaults(tmp_path: Path) -> None:
    lines = (
        "keepalived:\n  checks:\n"
        "    - {name: chk_haproxy, process: haproxy, interval: 1, weight: 0}\n"
        "    - {name: chk_gw, gateway: true}\n"
    )
    plan = compile_spec(_spec(tmp_path, lines)).plan
    assert [c.name for c in plan.keepalived.checks] == ["chk_haproxy", "chk_gw"]
