"""The keepalived checker compares the config's `vrrp_priority` with the nice value its sandbox
saw on the running VRRP child (hacompile/verify/configs.py). keepalived only logs, at INFO,
when it cannot apply a priority, so without this a bundle could promise a prompt VRRP process
and not have one. The sampling itself is exercised by every verify run of a real bundle
(tests/verify/test_blueprints.py): a missing sample is a finding there."""

from __future__ import annotations

from hacompile.verify.configs import priority_findings

CONF = "global_defs {\n    router_id lb1\n    vrrp_priority -20\n}\n"
LOG = "Tue Nov 24 06:28:57 2026: Starting VRRP child process, pid=17452\n"


def test_applied_priority_passes() -> None:
    assert priority_findings("lb1", CONF, LOG + "hacompile-child-nice: -20\n") == []


def test_priority_not_applied_is_a_finding() -> None:
    found = priority_findings("lb1", CONF, LOG + "hacompile-child-nice: 0\n")
    assert found == [
        "lb1: keepalived start: vrrp_priority -20 did not take effect (the VRRP "
        "child runs at nice 0)"
    ]


def test_no_sample_is_a_finding_not_a_pass() -> None:
    assert priority_findings("lb1", CONF, LOG) == [
        "lb1: keepalived start: no VRRP child seen to check vrrp_priority on"
    ]


def test_config_without_vrrp_priority_is_not_checked() -> None:
    assert priority_findings("lb1", CONF.replace("    vrrp_priority -20\n", ""), LOG) == []
