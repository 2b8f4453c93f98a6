"""The fast path of the Ansible-variable dumper writes exactly what ruamel writes.

`hacompile.render.yamlout.dump_yaml` formats the common case itself (ruamel's pure-Python
dumper was most of `build` for large specs) and falls back to ruamel for anything unusual. These
tests hold it to byte-for-byte equality with ruamel's own output, on every blueprint and on
generated data full of scalars that YAML would read as something else.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from hacompile.pipeline import compile_spec
from hacompile.plan.inventory import inventory, lb_group_vars
from hacompile.render.yamlout import _fast, _GiveUp, dump_yaml, ruamel_dump
from tests.hostile import inert
from tests.hostile.test_properties import PROFILE

BLUEPRINTS = sorted((Path(__file__).resolve().parents[2] / "blueprints").glob("*.yaml"))


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=lambda p: p.stem)
def test_fast_path_matches_ruamel_on_blueprints(blueprint: Path) -> None:
    plan = compile_spec(blueprint).plan
    if plan.management == "ssm":
        # The Session Manager ProxyCommand (quotes, %h, spaces) is outside the fast path's
        # alphabet: the inventory is ruamel's own dump.
        with pytest.raises(_GiveUp):
            _fast(inventory(plan))
        assert dump_yaml(inventory(plan)) == ruamel_dump(inventory(plan))
    else:
        assert _fast(inventory(plan)) == ruamel_dump(inventory(plan))  # taken, and identical
    lb_vars = lb_group_vars(plan)
    if not plan.haproxy.pools:
        assert _fast(lb_vars) == ruamel_dump(lb_vars)
        return
    # With routes, the frontends' ACL criteria (`req.hdr(host),field(1,:),lower -m str ...`:
    # spaces, commas, parentheses) are outside the fast path's alphabet, so group_vars/lb.yml,
    # one small document whatever the number of regions, is ruamel's own dump.
    with pytest.raises(_GiveUp):
        _fast(lb_vars)
    assert dump_yaml(lb_vars) == ruamel_dump(lb_vars)


TRICKY = [
    "",
    "1",
    "-1",
    "0x1F",
    "0o17",
    "1e3",
    "1_000",
    "3.0",
    ".5",
    ".inf",
    ".nan",
    "true",
    "false",
    "True",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "null",
    "Null",
    "~",
    "-",
    "-a",
    "a-",
    "@a",
    "a@b",
    "/",
    "/etc/x",
    "a:b",
    "a: b",
    "a #b",
    "#a",
    "'a'",
    '"a"',
    "a b",
    " a",
    "a ",
    "{a}",
    "[a]",
    "*a",
    "&a",
    "!a",
    "%a",
    "|",
    ">",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "12:30",
    "1:2:3",
    "=",
    "<<",
    "a=b",
    "a+b",
    "x" * 200,
    "a\nb",
    "\x07",
    "é",
    "{{ x }}",
    "0",
    "00",
    "+1",
    "010",
    "0b101",
    "NaN",
    "1.0e+3",
]
scalars = st.one_of(
    st.sampled_from(TRICKY), st.text(max_size=12), st.integers(), st.booleans(), st.none()
)
keys = st.one_of(st.sampled_from([t for t in TRICKY if t]), st.text(min_size=1, max_size=10))
data = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


@settings(
    settings.get_profile(PROFILE), max_examples=settings.get_profile(PROFILE).max_examples * 8
)
@given(st.dictionaries(keys, data, min_size=1, max_size=5))
def test_dump_yaml_is_ruamel_byte_for_byte(value: dict[str, Any]) -> None:
    expected = ruamel_dump(value)
    assert dump_yaml(value) == expected
    with contextlib.suppress(_GiveUp):  # when the fast path takes it, it is exact
        assert _fast(value) == expected
    # Ansible reads with PyYAML (YAML 1.1), hacompile's own tools with ruamel (YAML 1.2):
    # both must read back exactly the data, whatever the scalars look like.
    assert inert.load_yaml(expected) == value
    reader = YAML(typ="safe", pure=True)
    reader.constructor.add_constructor("!unsafe", lambda c, node: c.construct_scalar(node))
    assert reader.load(expected) == value


def test_yaml_11_words_stay_strings_for_ansible(tmp_path: Path) -> None:
    """Names a spec may legally use (`on`, `yes`, `no`, `off`, `y`, `n`) are YAML 1.1 booleans;
    unquoted, Ansible would get True/False and render `listen True`. Found by the fuzzer."""
    spec = Path(__file__).resolve().parents[2] / "blueprints" / "blog-aws-keepalived.yaml"
    text = (
        spec.read_text()
        .replace("name: hapee-blog", "name: 'no'")
        .replace("- name: webapp", "- name: 'on'")
        .replace("name: chk_gw", "name: 'y'")
    )
    path = tmp_path / "ha.yaml"
    path.write_text(text)
    files = {str(f.path): f.content for f in compile_spec(path).bundle.files}
    group = inert.load_yaml(files["ansible/group_vars/lb.yml"].decode())
    inventory_ = inert.load_yaml(files["ansible/inventory/hacompile.yml"].decode())
    assert [f["name"] for f in group["haproxy_frontends"]] == ["on"]
    assert "y" in [c["name"] for c in group["keepalived_checks"]]
    assert inventory_["all"]["vars"]["hacompile_cluster"] == "no"
