"""The certificate sync runs the AWS CLI that the haproxy role installs before its first fetch
(the keepalived role, which installs it too, runs later in the play): both roles must name the
same version and venv, or a host would carry two CLIs and the link would flip between them."""

from __future__ import annotations

from pathlib import Path

import yaml

ROLES = Path(__file__).resolve().parents[1] / "templates" / "ansible" / "roles"


def _defaults(role: str) -> dict[str, object]:
    text = (ROLES / role / "defaults" / "main.yml").read_text(encoding="utf-8")
    loaded: dict[str, object] = yaml.safe_load(text)
    return loaded


def test_the_sync_uses_the_keepalived_roles_aws_cli() -> None:
    haproxy, keepalived = _defaults("haproxy"), _defaults("keepalived")
    assert haproxy["haproxy_tls_awscli_version"] == keepalived["keepalived_awscli_version"]
    assert haproxy["haproxy_tls_awscli_venv"] == keepalived["keepalived_awscli_venv"]


def test_the_aws_cli_is_installed_before_the_first_fetch() -> None:
    tasks = (ROLES / "haproxy" / "tasks" / "main.yml").read_text(encoding="utf-8")
    install = tasks.index("Install the AWS CLI for the certificate sync")
    link = tasks.index("Put the AWS CLI on the certificate sync's PATH")
    fetch = tasks.index("Fetch, check and install the certificates now")
    assert install < link < fetch
