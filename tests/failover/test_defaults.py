"""The defaults a newcomer meets: a spec that leaves keepalived out validates without a
warning at every size, `priority.step` is checked against the takeover race it exists to
avoid, and `explain` stays readable (100 columns) and honest at 8 load balancers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hacompile.failover import analyse
from hacompile.pipeline import check, compile_spec
from tests.conftest import run_cli
from tests.failover.specs import line_of

INSTANCE = {
    2: "t3.small",
    3: "t3.small",
    4: "t3.medium",
    5: "t3.medium",
    6: "c5.xlarge",
    7: "c5.xlarge",
    8: "c5.xlarge",
}


def minimal(tmp_path: Path, count: int = 2, keepalived: str = "", name: str = "ha.yaml") -> Path:
    """Only what a spec must say (and a demo tier), plus `keepalived` lines if given."""
    text = (
        "version: 1\n"
        "name: web\n"
        "regions:\n"
        "  - name: us-east-1\n"
        "    vpc_cidr: 10.0.0.0/16\n"
        "    zones: [us-east-1a, us-east-1b]\n"
        f"load_balancers: {{count: {count}, instance_type: {INSTANCE[count]}}}\n"
        "backends: {demo: {count: 2}}\n"
        f"{keepalived}"
        "access: {ssh_key_name: k, ssh_cidrs: [203.0.113.0/24]}\n"
    )
    out = tmp_path / name
    out.write_text(text)
    return out


@pytest.mark.parametrize("count", range(2, 9))
def test_all_defaults_validate_without_a_warning(tmp_path: Path, count: int) -> None:
    # Before: master 101 over backup 100 warned of a 1-point margin at 1:1 (no keepalived key).
    validated = check(minimal(tmp_path, count))
    assert validated.warnings == (), [d.message for d in validated.warnings]


def test_all_defaults_validate_without_a_warning_for_hapee_over_three_zones(tmp_path: Path) -> None:
    # Three zones reorder the LBs' IPs (the tie-break); HAPEE renames the HAProxy process.
    text = minimal(tmp_path, 8).read_text()
    text = text.replace("[us-east-1a, us-east-1b]", "[us-east-1a, us-east-1b, us-east-1c]")
    text = text.replace(
        "instance_type: c5.xlarge}",
        "instance_type: c5.xlarge, flavor: hapee, ami_product_code: 483gxnuft87jy44d3q8n4kvt1}",
    )
    spec = tmp_path / "hapee.yaml"
    spec.write_text(text)
    validated = check(spec)
    assert validated.spec.load_balancers.flavor == "hapee"
    assert validated.warnings == (), [d.message for d in validated.warnings]


def test_default_haproxy_check_is_weight_zero_and_fails_over_fast(tmp_path: Path) -> None:
    report = analyse(compile_spec(minimal(tmp_path, 3)).plan)
    [haproxy] = [t for t in report.timings if t.check == "chk_haproxy"]
    assert haproxy.event == "fault_check"
    assert haproxy.decide < 5  # not preempt_delay (10 s) plus a master-down interval


def _step_warnings(path: Path) -> list[str]:
    return [
        f"{d.line}:{d.column} {d.message}"
        for d in check(path).warnings
        if d.path == "keepalived.priority.step" and "takeover timers" in d.message
    ]


def test_narrow_step_warns_at_the_step_with_the_figure_and_a_step_that_reaches_it(
    tmp_path: Path,
) -> None:
    spec = minimal(tmp_path, 3, "keepalived:\n  priority: {master: 110, backup: 100, step: 1}\n")
    [warning] = _step_warnings(spec)
    line = line_of(spec, "step: 1")
    col = spec.read_text().splitlines()[line - 1].index("step: 1") + len("step: ") + 1
    assert warning.startswith(f"{line}:{col} "), warning
    assert "3.9 ms apart" in warning and "step: 6" in warning and "23.4 ms" in warning
    # step 5 (19.5 ms) is what the lab once saw lose the race; 6 clears 20 ms
    five = minimal(
        tmp_path, 3, "keepalived:\n  priority: {master: 110, backup: 100, step: 5}\n", "five.yaml"
    )
    assert len(_step_warnings(five)) == 1
    six = minimal(
        tmp_path, 3, "keepalived:\n  priority: {master: 110, backup: 100, step: 6}\n", "six.yaml"
    )
    assert _step_warnings(six) == []


def test_two_load_balancers_have_no_race_between_backups(tmp_path: Path) -> None:
    spec = minimal(tmp_path, 2, "keepalived:\n  priority: {master: 110, backup: 100, step: 1}\n")
    assert _step_warnings(spec) == []


def test_vrrp3_scales_the_gap_by_advert_int(tmp_path: Path) -> None:
    # VRRPv3 skews in units of advert_int: step 10 at 0.2 s is 7.8 ms; 26 reaches 20.3 ms.
    ka = (
        "keepalived:\n  vrrp_version: 3\n  advert_int: 0.2\n"
        "  priority: {master: 200, backup: 180, step: 10}\n"
    )
    [warning] = _step_warnings(minimal(tmp_path, 3, ka))
    assert "7.8 ms apart" in warning and "step: 26" in warning
    wide = ka.replace("step: 10", "step: 26")
    assert _step_warnings(minimal(tmp_path, 3, wide, "wide.yaml")) == []


def test_no_step_reaches_the_gap_says_so(tmp_path: Path) -> None:
    # 0.05 s adverts need step 103: past the ladder's room (and the bound of 50).
    ka = (
        "keepalived:\n  vrrp_version: 3\n  advert_int: 0.05\n"
        "  priority: {master: 200, backup: 180, step: 50}\n"
    )
    [warning] = _step_warnings(minimal(tmp_path, 3, ka))
    assert "no step reaches 20 ms" in warning and "use advert_int 0.11 or more" in warning
    # a step that exists but that the ladder has no room for: 8 LBs at backup 30 fit step 4 at most
    low = "keepalived:\n  priority: {master: 40, backup: 30, step: 4}\n"
    [warning] = _step_warnings(minimal(tmp_path, 8, low, "low.yaml"))
    assert "step: 6 would reach it" in warning and "needs backup 37 or more" in warning


def test_explain_fits_100_columns_at_eight_load_balancers(tmp_path: Path) -> None:
    result = run_cli("explain", str(minimal(tmp_path, 8)))
    assert result.returncode == 0, result.stderr
    wide = [line for line in result.stdout.splitlines() if len(line) > 100]
    assert wide == [], f"{len(wide)} lines over 100 columns, e.g. {wide[0]!r}"
    # every EIP's outcomes are still there, each with every node's priority
    for k in range(1, 9):
        assert re.search(rf"^eip{k} \(owner lb{k}\)", result.stdout, re.M), k
    assert "HAProxy down on every node" in result.stdout


def test_explain_keeps_the_one_table_where_it_fits(tmp_path: Path) -> None:
    result = run_cli("explain", str(minimal(tmp_path, 2)))
    header = next(line for line in result.stdout.splitlines() if line.startswith("scenario"))
    assert "eip1 (owner lb1)" in header and "eip2 (owner lb2)" in header


def test_explain_json_is_the_same_shape_at_eight(tmp_path: Path) -> None:
    doc = json.loads(run_cli("explain", str(minimal(tmp_path, 8)), "--json").stdout)
    [region] = doc["regions"]
    assert region["eips"] == [f"eip{k}" for k in range(1, 9)]
    assert set(region["scenarios"][0]["eips"]["eip8"]["nodes"]) == {f"lb{k}" for k in range(1, 9)}


def test_a_lost_node_is_detected_by_its_silence(tmp_path: Path) -> None:
    # Before: "detected within 0 s". The backups learn of it only when the adverts have
    # stopped for a master-down interval, which is also when the first one takes over.
    report = analyse(compile_spec(minimal(tmp_path, 2)).plan)
    lost = report.timings[0]
    assert lost.event == "node_lost"
    assert lost.detect == lost.decide > 3
    assert lost.takeover == 0
    result = run_cli("explain", str(minimal(tmp_path, 2)))
    row = next(line for line in result.stdout.splitlines() if "load balancer is lost" in line)
    assert " 0 s " not in row, row
    assert "a load balancer is lost: no advert for 3 x advert_int 1 s + skew" in result.stdout
