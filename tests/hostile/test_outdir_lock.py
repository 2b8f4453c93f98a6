"""One build at a time per output directory, and `--check` never blesses a half-done one.

The attack (issue 11): two builds into one `-o`, one of them with --force, 20 rounds: 8 failed
with a raw `[Errno 2] ... journal`, 4 left `.X.hacompile-old` files that `--check` called up to
date, and once the build that exited 0 was not the bundle on disk. Here every round must end
with each build either done or refused with the lock message, and the tree equal to a bundle
that one of the successful builds wrote, which `--check` confirms.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hacompile.write import JOURNAL, write
from tests.conftest import ROOT
from tests.hostile.clirun import run_cli
from tests.workflow.conftest import BLOG, THREE, bundle_of, snapshot

LOCK = ".hacompile-lock"
BUSY = "another build is writing"
ROUNDS = 10


def _copy_specs(tmp_path: Path) -> None:
    (tmp_path / "blog.yaml").write_text(BLOG.read_text())
    (tmp_path / "three.yaml").write_text(THREE.read_text())


def _start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "hacompile", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_builds_are_serialised(tmp_path: Path) -> None:
    _copy_specs(tmp_path)
    expected = {}
    for name in ("blog", "three"):
        reference = tmp_path / f"ref-{name}"
        assert run_cli(["build", f"{name}.yaml", "-o", reference.name], cwd=tmp_path).rc == 0
        expected[name] = snapshot(reference)
    out = tmp_path / "out"
    for round_ in range(ROUNDS):
        runs = {
            "blog": _start(tmp_path, "build", "blog.yaml", "-o", "out"),
            "three": _start(tmp_path, "build", "three.yaml", "-o", "out", "--force"),
        }
        succeeded = []
        for name, proc in runs.items():
            _, stderr = proc.communicate(timeout=120)
            assert "Traceback" not in stderr, stderr
            assert proc.returncode == 0 or (proc.returncode == 2 and BUSY in stderr), (
                round_,
                name,
                proc.returncode,
                stderr,
            )
            if proc.returncode == 0:
                succeeded.append(name)
        assert succeeded, round_
        on_disk = snapshot(out)
        matches = [name for name in succeeded if on_disk == expected[name]]
        assert matches, (round_, succeeded, sorted(set(on_disk) ^ set(expected[succeeded[0]])))
        check = run_cli(["build", f"{matches[0]}.yaml", "-o", "out", "--check"], cwd=tmp_path)
        assert check.rc == 0, (round_, check.stdout, check.stderr)


def _hold(path: Path, mode: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, mode)
    return fd


@pytest.mark.parametrize(
    "args", [["build"], ["build", "--check"], ["diff"]], ids=["build", "check", "diff"]
)
def test_a_held_lock_is_waited_for_then_refused(tmp_path: Path, args: list[str]) -> None:
    _copy_specs(tmp_path)
    assert run_cli(["build", "blog.yaml", "-o", "out"], cwd=tmp_path).rc == 0
    fd = _hold(tmp_path / "out" / LOCK, fcntl.LOCK_EX)
    before = snapshot(tmp_path / "out")
    try:
        result = run_cli([*args, "three.yaml", "-o", "out"], cwd=tmp_path)
    finally:
        os.close(fd)
    assert result.rc == 2 and f"{BUSY} out" in result.stderr, (result.rc, result.stderr)
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path / "out") == before


def test_readers_share_the_lock(tmp_path: Path) -> None:
    _copy_specs(tmp_path)
    assert run_cli(["build", "blog.yaml", "-o", "out"], cwd=tmp_path).rc == 0
    fd = _hold(tmp_path / "out" / LOCK, fcntl.LOCK_SH)
    try:
        check = run_cli(["build", "blog.yaml", "-o", "out", "--check"], cwd=tmp_path)
    finally:
        os.close(fd)
    assert check.rc == 0, check.stderr


def test_a_linked_lock_file_is_refused(tmp_path: Path) -> None:
    _copy_specs(tmp_path)
    assert run_cli(["build", "blog.yaml", "-o", "out"], cwd=tmp_path).rc == 0
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"victim\n")
    (tmp_path / "out" / LOCK).symlink_to(victim)
    result = run_cli(["build", "three.yaml", "-o", "out", "--force"], cwd=tmp_path)
    assert result.rc == 2 and f"out/{LOCK}" in result.stderr and "symbolic link" in result.stderr, (
        result.stderr
    )
    assert victim.read_bytes() == b"victim\n"
    assert (tmp_path / "out" / LOCK).is_symlink()


def test_no_lock_file_is_left_behind(tmp_path: Path) -> None:
    """The lock must not make golden bundles or `--check` differ: it goes with the build."""
    write(bundle_of(BLOG), tmp_path / "lib")  # as tools/regen_golden.py writes the goldens
    assert not (tmp_path / "lib" / LOCK).exists()
    _copy_specs(tmp_path)
    for args in (["build"], ["build", "--check"], ["diff"]):
        assert run_cli([*args, "blog.yaml", "-o", "out"], cwd=tmp_path).rc == 0
        assert not (tmp_path / "out" / LOCK).exists(), args


# --- leftovers: --check never calls an unfinished directory up to date -------------------------

LEFTOVERS = [
    "ansible/.site.yml.hacompile-old",
    "ansible/.site.yml.hacompile-new",
    "terraform/modules/haproxy-ha/.eips.tf.hacompile-old",
    f".{JOURNAL}.hacompile-new",
]


@pytest.mark.parametrize("leftover", LEFTOVERS)
def test_leftover_side_files_make_check_fail_and_build_removes_them(
    tmp_path: Path, leftover: str
) -> None:
    _copy_specs(tmp_path)
    assert run_cli(["build", "blog.yaml", "-o", "out"], cwd=tmp_path).rc == 0
    (tmp_path / "out" / leftover).write_text("a backup nobody removed\n")
    check = run_cli(["build", "blog.yaml", "-o", "out", "--check"], cwd=tmp_path)
    assert check.rc == 1 and leftover in check.stdout, (check.rc, check.stdout, check.stderr)
    assert run_cli(["build", "blog.yaml", "-o", "out"], cwd=tmp_path).rc == 0
    assert not (tmp_path / "out" / leftover).exists()
    assert run_cli(["build", "blog.yaml", "-o", "out", "--check"], cwd=tmp_path).rc == 0


def test_pending_journal_makes_check_fail(tmp_path: Path) -> None:
    _copy_specs(tmp_path)
    assert run_cli(["build", "blog.yaml", "-o", "out"], cwd=tmp_path).rc == 0
    journal = {"entries": [{"path": "README.md", "backup": True}], "dirs": []}
    (tmp_path / "out" / JOURNAL).write_text(json.dumps(journal))
    check = run_cli(["build", "blog.yaml", "-o", "out", "--check"], cwd=tmp_path)
    assert check.rc == 2 and "interrupted build" in check.stderr, (check.rc, check.stderr)
