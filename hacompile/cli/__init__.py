"""The command line: the only place that prints or exits.

`app` holds the typer application and the output helpers every command shares; the commands
live in `spec_commands`, `tool_commands` and `status_command`, imported here so that they
register on `app`.
"""

from hacompile.cli import spec_commands, status_command, tool_commands
from hacompile.cli.app import app, main

__all__ = ["app", "main", "spec_commands", "status_command", "tool_commands"]
