"""Each layer names its own classes (issue 12): a spec model ends in `Spec`, a plan record does
not, and no class name is used by both. When `Check`, `Region`, `HAProxy`, `Keepalived` and
`Frontend` were both pydantic spec models and plan NamedTuples, an import line did not say
which layer a module worked on."""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any, get_args

from pydantic import BaseModel

from hacompile.plan import model as plan_model
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
