"""Script-mode process checks run `pgrep -x PATTERN`, a regular expression; track_process
matches the exact name. The plan's pattern must make both match the same process: a `.` in
a name (php-fpm8.2) is a literal dot, not "any character" (issue 11: `sl..p` matched sleep)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hacompile.load import load
from hacompile.plan.build import build_plan, process_pattern
from hacompile.plan.inventory import lb_group_vars
from hacompile.validate import validate


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("haproxy", "haproxy"),
        ("sl.ep", "sl[.]ep"),
        ("php-fpm8.2", "php-fpm8[.]2"),
        ("a_b-c", "a_b-c"),
    ],
)
def test_the_pattern_is_the_name_with_each_dot_literal(name: str, pattern: str) -> None:
    assert process_pattern(name) == pattern


def test_pgrep_with_the_pattern_matches_only_the_literal_name(tmp_path: Path) -> None:
    """Real processes: copies of sleep named `sl.ep`, `sleep` and `slxep`; the pattern for
    `sl.ep` finds the first only, where the bare name finds all three."""
    sleep = shutil.which("sleep")
    pgrep = shutil.which("pgrep")
    assert sleep and pgrep, "sleep and pgrep (procps) are required"
    procs = {}
    try:
        for name in ("sl.ep", "sleep", "slxep"):
            binary = tmp_path / name
            shutil.copy(sleep, binary)
            procs[name] = subprocess.Popen([str(binary), "60"])
        time.sleep(0.2)  # let each exec finish so comm is the new name

        def found(pattern: str) -> set[int]:
            out = subprocess.run([pgrep, "-x", "--", pattern], capture_output=True, text=True)
            return {int(pid) for pid in out.stdout.split()} & {p.pid for p in procs.values()}

        assert found("sl.ep") == {p.pid for p in procs.values()}, "the bare name is a regex"
        assert found(process_pattern("sl.ep")) == {procs["sl.ep"].pid}
        assert found(process_pattern("sleep")) == {procs["sleep"].pid}
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait()


def test_script_mode_passes_the_pattern_and_track_process_the_name(tmp_path: Path) -> None:
    spec = tmp_path / "ha.yaml"
    spec.write_text(
        "version: 1\nname: demo\nregions:\n  - name: us-east-1\n    vpc_cidr: 10.0.0.0/16\n"
        "    zones: [us-east-1a, us-east-1b]\nbackends: {demo: {count: 2}}\n"
        "access: {ssh_key_name: k, ssh_cidrs: [203.0.113.0/24]}\n"
        "keepalived:\n  process_checks: script\n  checks:\n"
        "    - {name: chk_haproxy, process: haproxy, weight: 0}\n"
        "    - {name: chk_php, process: php-fpm8.2, weight: -4}\n",
        encoding="utf-8",
    )
    plan = build_plan(validate(load(spec)).spec, "ha.yaml")
    checks = {c["name"]: c for c in lb_group_vars(plan)["keepalived_checks"]}
    assert checks["chk_php"]["process"] == "php-fpm8.2"
    assert checks["chk_php"]["pattern"] == "php-fpm8[.]2"
    root = Path(__file__).resolve().parents[1]
    conf = (root / "templates/ansible/roles/keepalived/templates/keepalived.conf.j2").read_text()
    assert "hacompile-check-process {{ check.pattern }}" in conf
    assert "process {{ check.process }}" in conf
