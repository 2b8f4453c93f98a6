"""On a terminal: colour (unless NO_COLOR), and `init` asks for what was not given."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.workflow.conftest import BLOG


def on_terminal(
    args: list[str], cwd: Path, env: dict[str, str], answers: bytes = b"", timeout: float = 60.0
) -> tuple[int, str]:
    """Run hacompile with stdin/stdout/stderr on a pseudo-terminal; bounded in time."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hacompile", *args],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    if answers:
        os.write(master, answers)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, b"".join(chunks).decode(errors="replace")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm", **extra)
    return env


def test_colour_on_a_terminal_and_no_color_honoured(tmp_path: Path) -> None:
    code, text = on_terminal(["validate", str(BLOG)], tmp_path, _env())
    assert code == 0
    assert "\x1b[33m" in text or "\x1b[1m\x1b[33m" in text  # yellow "warning:"
    code, plain = on_terminal(["validate", str(BLOG)], tmp_path, _env(NO_COLOR="1"))
    assert code == 0 and "\x1b[" not in plain and "warning:" in plain


def test_init_prompts_on_a_terminal(tmp_path: Path) -> None:
    code, text = on_terminal(
        ["init", "ha.yaml"], tmp_path, _env(NO_COLOR="1"), answers=b"shop\neu-central-1\n3\nhapee\n"
    )
    assert code == 0, text
    assert "Cluster name" in text and "AWS region" in text and "Flavor" in text
    data = yaml.safe_load((tmp_path / "ha.yaml").read_text())
    assert data["name"] == "shop"
    assert data["regions"][0]["zones"] == ["eu-central-1a", "eu-central-1b"]
    assert data["load_balancers"]["count"] == 3
    assert data["load_balancers"]["flavor"] == "hapee"


def test_init_does_not_prompt_for_values_given_as_flags(tmp_path: Path) -> None:
    code, text = on_terminal(
        [
            "init",
            "ha.yaml",
            "--name",
            "api",
            "--region",
            "us-west-2",
            "--lbs",
            "2",
            "--flavor",
            "community",
        ],
        tmp_path,
        _env(NO_COLOR="1"),
    )
    assert code == 0, text
    assert "Cluster name" not in text and "Flavor" not in text
