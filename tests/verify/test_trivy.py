"""The `trivy` checker: real trivy over tiny hand-written bundles, and its ignore discipline.

The tests that run trivy skip, with the checker's own reason, where trivy is not installed
(.ci/install-verify.sh installs it through the `verify` extra, so in CI they run); the parsing
and "not installed" tests run everywhere.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from hacompile.verify.base import Context, Status, Unavailable
from hacompile.verify.runner import run_checks
from hacompile.verify.trivy import check_trivy, find_trivy, inline_ignores


def _trivy_reason() -> str:
    try:
        find_trivy()
    except Unavailable as exc:
        return str(exc)
    return ""


REASON = _trivy_reason()
needs_trivy = pytest.mark.skipif(bool(REASON), reason=REASON)

SG = """resource "aws_security_group" "sg" {
  name        = "demo"
  description = "demo"
}

"""
SSH_RULE = """resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.sg.id
  description       = "SSH from anywhere"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}
"""
REASON_TEXT = "the demo host is reached by students from anywhere"


def bundle(tmp_path: Path, above_rule: str = "", readme: str = "") -> Path:
    """A bundle with one module whose only resources are an SG and an SSH-from-anywhere rule,
    `above_rule` written on the lines before the rule's block."""
    root = tmp_path / "bundle"
    module = root / "terraform" / "eu-west-1"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(SG + above_rule + SSH_RULE, encoding="utf-8")
    (root / "README.md").write_text(f"# demo\n\n{readme}\n", encoding="utf-8")
    return root


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def trivy(root: Path, tmp_path: Path) -> tuple[str, ...]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return check_trivy(Context(root, work)).findings


@needs_trivy
def test_finds_ssh_from_anywhere_at_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIVY_SKIP_DIRS", "**")  # the user's TRIVY_* must not change the scan
    root = bundle(tmp_path)
    (finding,) = trivy(root, tmp_path)
    line = line_of(root / "terraform/eu-west-1/main.tf", "0.0.0.0/0")
    assert finding.startswith(
        f"terraform/eu-west-1/main.tf:{line}: aws_vpc_security_group_ingress_rule.ssh: AWS-0107 "
    ), finding
    assert finding.split()[3] in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}, finding
    assert "0.0.0.0/0" not in finding and len(finding.split(" ", 4)[4]) > 10, finding
    assert not list(tmp_path.glob("work/trivy/tmp/*")), "trivy left files behind"


@needs_trivy
def test_an_ignore_with_a_reason_listed_in_the_readme_passes(tmp_path: Path) -> None:
    root = bundle(
        tmp_path, f"#trivy:ignore:AWS-0107 {REASON_TEXT}\n", readme="| AWS-0107 | ssh | ... |"
    )
    result = check_trivy(Context(root, tmp_path))
    assert result.findings == (), result.findings
    assert "1 ignored inline" in result.summary, result.summary


@needs_trivy
def test_the_reason_may_be_the_comment_line_above_the_ignore(tmp_path: Path) -> None:
    root = bundle(tmp_path, f"# {REASON_TEXT}\n#trivy:ignore:AVD-AWS-0107\n", readme="AVD-AWS-0107")
    assert trivy(root, tmp_path) == ()


@needs_trivy
def test_an_ignore_without_a_reason_is_a_finding(tmp_path: Path) -> None:
    root = bundle(tmp_path, "#trivy:ignore:AWS-0107\n", readme="AWS-0107")
    line = line_of(root / "terraform/eu-west-1/main.tf", "trivy:ignore")
    # trivy itself honours it: the only finding is the missing reason
    assert trivy(root, tmp_path) == (
        f"terraform/eu-west-1/main.tf:{line}: trivy:ignore:AWS-0107 has no reason",
    )


@needs_trivy
def test_a_misplaced_or_unlisted_ignore_is_a_finding(tmp_path: Path) -> None:
    # a blank line between the ignore and the block: trivy drops the ignore without a word
    root = bundle(tmp_path, f"# trivy:ignore:AWS-0107 {REASON_TEXT}\n\n")
    found = "\n".join(trivy(root, tmp_path))
    assert "aws_vpc_security_group_ingress_rule.ssh: AWS-0107 " in found, found
    assert "trivy:ignore:AWS-0107 is not directly above a block or attribute" in found, found
    assert "trivy:ignore:AWS-0107 is not listed in README.md" in found, found


@needs_trivy
def test_finds_a_secret_in_any_file_of_the_bundle(tmp_path: Path) -> None:
    root = bundle(tmp_path, f"# trivy:ignore:AWS-0107 {REASON_TEXT}\n", readme="AWS-0107")
    defaults = root / "ansible" / "roles" / "demo" / "defaults" / "main.yml"
    defaults.parent.mkdir(parents=True)
    defaults.write_text("---\ndemo_user: admin\ndemo_key: AKIAQWERTYUIOPASDFGH\n")
    (finding,) = trivy(root, tmp_path)
    assert finding.startswith(
        "ansible/roles/demo/defaults/main.yml:3: secret aws-access-key-id CRITICAL "
    ), finding


def test_not_installed_is_reported_as_not_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sysconfig, "get_path", lambda name, *a, **k: str(tmp_path / "no-bin"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    monkeypatch.setenv("HACOMPILE_TOOLS_DIR", str(tmp_path / "no-tools"))
    (result,) = run_checks(bundle(tmp_path), ["trivy"])
    assert result.status is Status.UNAVAILABLE, result
    assert result.detail.startswith("trivy not installed: pip install 'hacompile[verify]'")


def test_inline_ignores_are_read_wherever_trivy_reads_them(tmp_path: Path) -> None:
    text = (
        SG + f"# trivy:ignore:AWS-0107 {REASON_TEXT}\n"
        "#trivy:ignore:AVD-AWS-0104:exp:2099-01-01 #trivy:ignore:AWS-0108 -- two at once\n"
        + SSH_RULE.replace('"0.0.0.0/0"', '"0.0.0.0/0" # trivy:ignore:AWS-0109')
        + f"\n# {REASON_TEXT}\n#trivy:ignore:AWS-0110\n# another reason\n"
        "#trivy:ignore:AWS-0111\n" + SSH_RULE.replace('"ssh"', '"ssh2"')
    )
    root = bundle(tmp_path)
    (root / "terraform/eu-west-1/main.tf").write_text(text, encoding="utf-8")
    found = [(i.line, i.check, i.reason, i.placed) for i in inline_ignores(Context(root, tmp_path))]
    assert found == [
        (6, "AWS-0107", REASON_TEXT, True),
        (7, "AVD-AWS-0104", "two at once", True),
        (7, "AWS-0108", "two at once", True),
        (11, "AWS-0109", "", True),
        # trivy drops 0110: a plain comment line parts it from the block
        (18, "AWS-0110", REASON_TEXT, False),
        (20, "AWS-0111", "another reason", True),
    ]


@needs_trivy
def test_findings_come_in_file_and_line_order(tmp_path: Path) -> None:
    root = bundle(tmp_path)
    main = root / "terraform/eu-west-1/main.tf"
    far = "\n" * 90 + SSH_RULE.replace('"ssh"', '"ssh_far"')
    main.write_text(main.read_text(encoding="utf-8") + far, encoding="utf-8")
    lines = [int(f.split(":")[1]) for f in trivy(root, tmp_path)]
    assert len(lines) == 2 and lines[0] < 100 <= lines[1], lines  # not "…:108" before "…:9"
