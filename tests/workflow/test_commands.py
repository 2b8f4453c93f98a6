"""Every workflow command and flag, output piped: in-process (`invoke_cli`, the same exit status
and streams, and a stdin that is not a terminal) except where the subprocess matters: `init`
run by a real process whose stdin is /dev/null (`run_piped`: it must not prompt) and colour
decided by the real process's streams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from hacompile import manifest
from tests.conftest import ROOT, invoke_cli
from tests.workflow.conftest import BLOG, run_piped, snapshot


def built(tmp_path: Path, spec: Path = BLOG) -> Path:
    out = tmp_path / "out"
    result = invoke_cli("build", str(spec), "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_build_check_exit_codes_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    missing = invoke_cli("build", str(BLOG), "-o", str(out), "--check")
    assert missing.returncode == 1
    assert not out.exists()  # --check writes nothing, not even the directory
    assert "create README.md" in " ".join(missing.stdout.split())
    built(tmp_path)
    current = invoke_cli("build", str(BLOG), "-o", str(out), "--check")
    assert current.returncode == 0, current.stdout
    assert "up to date" in current.stdout
    (out / "README.md").write_text("edited\n")
    (out / "terraform" / "modules" / "haproxy-ha" / "eips.tf").unlink()
    before = snapshot(out)
    stale = invoke_cli("build", str(BLOG), "-o", str(out), "--check")
    assert stale.returncode == 1
    lines = [" ".join(line.split()) for line in stale.stdout.splitlines()]
    assert f"{out}: 2 files would change:" in lines
    assert "update README.md (edited by hand since hacompile generated it)" in lines
    assert "create terraform/modules/haproxy-ha/eips.tf" in lines
    assert snapshot(out) == before


def test_build_check_json_and_quiet(tmp_path: Path) -> None:
    out = built(tmp_path)
    (out / "README.md").write_text("edited\n")
    doc = json.loads(invoke_cli("build", str(BLOG), "-o", str(out), "--check", "--json").stdout)
    assert doc["command"] == "build" and doc["ok"] is False and doc["check"] is True
    assert doc["changes"] == [
        {
            "path": "README.md",
            "action": "update",
            "conflict": "edited by hand since hacompile generated it",
        }
    ]
    quiet = invoke_cli("build", str(BLOG), "-o", str(out), "--check", "--quiet")
    assert quiet.returncode == 1 and quiet.stdout == "" and quiet.stderr == ""


def test_build_refuses_hand_edits_and_force_overwrites(tmp_path: Path) -> None:
    out = built(tmp_path)
    edited = out / "ansible" / "site.yml"
    edited.write_text(edited.read_text() + "# local tweak\n")
    refused = invoke_cli("build", str(BLOG), "-o", str(out))
    assert refused.returncode == 1
    assert "ansible/site.yml: edited by hand" in refused.stderr and "--force" in refused.stderr
    assert "# local tweak" in edited.read_text()
    forced = invoke_cli("build", str(BLOG), "-o", str(out), "--force", "--json")
    assert forced.returncode == 0
    assert json.loads(forced.stdout)["written"] == ["ansible/site.yml"]
    assert "# local tweak" not in edited.read_text()


def test_diff_shows_what_build_would_change(tmp_path: Path) -> None:
    out = built(tmp_path)
    same = invoke_cli("diff", str(BLOG), "-o", str(out))
    assert same.returncode == 0 and same.stdout == ""
    spec = tmp_path / "ha.yaml"
    spec.write_text(BLOG.read_text().replace("port: 80\n  demo:", "port: 8080\n  demo:"))
    before = snapshot(out)
    changed = invoke_cli("diff", str(spec), "-o", str(out))
    assert changed.returncode == 1
    assert "--- a/ansible/inventory/hacompile.yml\n+++ b/ansible/inventory/hacompile.yml\n" in (
        changed.stdout
    )
    assert "-              demo_backend_port: 80\n+              demo_backend_port: 8080\n" in (
        changed.stdout
    )
    assert snapshot(out) == before
    # The diff is a real patch: applied to a copy it gives what build writes.
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(out), str(copy)], check=True)
    subprocess.run(
        ["patch", "-p1", "-s", "-d", str(copy)],
        input=changed.stdout,
        text=True,
        check=True,
        timeout=60,
    )
    assert invoke_cli("build", str(spec), "-o", str(out)).returncode == 0
    assert snapshot(copy) == snapshot(out)
    doc = json.loads(invoke_cli("diff", str(BLOG), "-o", str(out), "--json").stdout)
    assert doc["command"] == "diff" and doc["diff"].startswith("diff --hacompile")


def test_init_writes_a_spec_that_validates_and_builds(tmp_path: Path) -> None:
    result = run_piped("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    spec = tmp_path / "ha.yaml"
    text = spec.read_text()
    assert "region" in text and "# " in text  # commented
    valid = invoke_cli("validate", str(spec))
    assert valid.returncode == 0 and valid.stderr == ""  # not even a warning
    assert invoke_cli("build", str(spec), "-o", str(tmp_path / "out")).returncode == 0


def test_init_flags(tmp_path: Path) -> None:
    spec = tmp_path / "custom.yaml"
    result = invoke_cli(
        "init",
        str(spec),
        "--region",
        "eu-west-1",
        "--lbs",
        "4",
        "--flavor",
        "hapee",
        "--name",
        "shop",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "command": "init",
        "ok": True,
        "diagnostics": [],
        "path": str(spec),
        "name": "shop",
        "region": "eu-west-1",
        "lbs": 4,
        "flavor": "hapee",
    }
    data = yaml.safe_load(spec.read_text())
    assert data["regions"][0]["name"] == "eu-west-1"
    # a placeholder product code that matches no image: `terraform plan` fails until it is
    # replaced, the lookup never falls back to a name any Marketplace seller can publish
    assert data["load_balancers"] == {
        "count": 4,
        "instance_type": "t3.medium",
        "flavor": "hapee",
        "ami_product_code": "0" * 25,
    }
    assert data["keepalived"]["checks"][0]["process"] == "hapee-lb"
    assert invoke_cli("validate", str(spec)).stderr == ""
    again = invoke_cli("init", str(spec))
    assert again.returncode == 2 and "exists" in again.stderr
    assert invoke_cli("init", str(spec), "--force", "--quiet").stdout == ""
    bad = invoke_cli("init", str(tmp_path / "x.yaml"), "--lbs", "9")
    assert bad.returncode == 2 and "2 to 8" in bad.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_validate_json_and_quiet() -> None:
    doc = json.loads(invoke_cli("validate", str(BLOG), "--json").stdout)
    assert doc["ok"] is True and doc["command"] == "validate"
    assert [d["path"] for d in doc["diagnostics"]] == ["keepalived.priority.master"]
    assert doc["diagnostics"][0]["severity"] == "warning"
    quiet = invoke_cli("validate", str(BLOG), "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_spec_errors_as_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BLOG.read_text().replace("weight: 6,", "weight: 1,"))
    for command in ("validate", "build", "explain", "diff"):
        result = invoke_cli(command, str(bad), "--json")
        assert result.returncode == 2, command
        doc = json.loads(result.stdout)
        assert doc["ok"] is False and doc["command"] == command
        errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
        assert errors[0]["path"] == "keepalived.checks[2].weight", command
        assert result.stderr == ""


def test_schema_is_committed_and_current() -> None:
    result = invoke_cli("schema")
    committed = (ROOT / "schema" / "ha.schema.json").read_text()
    assert result.stdout == committed, "run: hacompile schema > schema/ha.schema.json"
    doc = json.loads(invoke_cli("schema", "--json").stdout)
    assert doc["ok"] is True and doc["schema"] == json.loads(committed)


def test_every_blueprint_points_editors_at_the_schema() -> None:
    for spec in sorted((ROOT / "blueprints").glob("*.yaml")):
        first = spec.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/ha.schema.json", spec.name


def test_pre_commit_hook_runs_build_check() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = hooks
    assert hook["id"] == "hacompile-check"
    assert hook["entry"].split()[:3] == ["hacompile", "build", "--check"]
    assert hook["pass_filenames"] is False and hook["language"] == "python"


def test_shell_completion_is_available() -> None:
    from typer.testing import CliRunner

    from hacompile.cli import app

    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="hacompile")
    assert result.exit_code == 0, (result.output, repr(result.exception))
    assert "complete" in result.output and "_HACOMPILE_COMPLETE" in result.output


def test_piped_output_has_no_colour_even_without_no_color(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "hacompile", "explain", str(BLOG)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "\x1b[" not in result.stdout + result.stderr
    assert "all healthy" in result.stdout


def test_manifest_is_in_the_bundle(tmp_path: Path) -> None:
    out = built(tmp_path)
    assert json.loads((out / manifest.NAME).read_text())["spec_file"] == BLOG.name


def test_quiet_on_every_command(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for args in (
        ["build", str(BLOG), "-o", str(out)],
        ["build", str(BLOG), "-o", str(out), "--check"],
        ["diff", str(BLOG), "-o", str(out)],
        ["validate", str(BLOG)],
    ):
        result = invoke_cli(*args, "--quiet")
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout == "" and result.stderr == "", args  # the blog's warning too
    explained = invoke_cli("explain", str(BLOG), "--quiet")
    assert "all healthy" in explained.stdout and explained.stderr == ""
    assert json.loads(invoke_cli("schema", "--quiet").stdout)["type"] == "object"


def test_refused_build_as_json(tmp_path: Path) -> None:
    out = built(tmp_path)
    (out / "README.md").write_text("mine\n")
    result = invoke_cli("build", str(BLOG), "-o", str(out), "--json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["conflicts"] == [
        {
            "path": "README.md",
            "action": "update",
            "reason": "edited by hand since hacompile generated it",
        }
    ]
