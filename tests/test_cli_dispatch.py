"""`hacompile.cli.app.only`: a run builds only the command it names, and that changes nothing a
user can see: help, usage errors and results are those of the full application."""

from __future__ import annotations

import pytest
from typer.main import get_command_name
from typer.testing import CliRunner

from hacompile.cli import app
from hacompile.cli.app import only

COMMANDS = [
    get_command_name(info.callback.__name__)
    for info in app.registered_commands
    if info.callback is not None
]


def test_every_command_is_found() -> None:
    assert set(COMMANDS) >= {"build", "diff", "explain", "init", "validate", "schema", "verify"}
    for name in COMMANDS:
        single = only([name, "--help"])
        assert single is not app
        assert len(single.registered_commands) == 1
        assert single.registered_callback is app.registered_callback
    assert len(app.registered_commands) == len(COMMANDS)  # the full application is untouched


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["valdate", "x.yaml"], ["-q"]])
def test_anything_else_gets_the_full_application(args: list[str]) -> None:
    assert only(args) is app


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize(
    "tail", [["--help"], [], ["--no-such-option"], ["a", "b", "c"], ["--json", "--help"]]
)
def test_a_command_alone_behaves_as_in_the_full_application(name: str, tail: list[str]) -> None:
    if name == "init" and not tail:  # would write ha.yaml in the working directory
        pytest.skip("init without arguments writes a file")
    runner = CliRunner()
    full = runner.invoke(app, [name, *tail], prog_name="hacompile")
    alone = runner.invoke(only([name, *tail]), [name, *tail], prog_name="hacompile")
    assert (alone.exit_code, alone.stdout, alone.stderr) == (
        full.exit_code,
        full.stdout,
        full.stderr,
    )
    assert alone.exception is None or isinstance(alone.exception, SystemExit)


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(only(["--help"]), ["--help"], prog_name="hacompile")
    assert result.exit_code == 0
    listed = result.stdout.split("Commands:", 1)[1]
    for name in COMMANDS:
        assert f"  {name} " in listed
