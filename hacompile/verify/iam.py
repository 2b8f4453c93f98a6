"""IAM checker: every policy document in the bundle through parliament.

Why parliament: it knows every real IAM action and which resource types and condition keys each
one accepts (from AWS's own service authorization reference), so it catches a misspelt action
(UNKNOWN_ACTION), an ARN that no action of the statement can match (RESOURCE_MISMATCH) and a
`Resource: "*"` on actions that support resource-level permissions (RESOURCE_STAR), i.e.
policies not scoped as tightly as AWS allows. It is called through its Python API because its
`--file` mode needs a terminal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hacompile.verify.base import Context, Outcome, Unavailable

__all__ = ["check_iam", "policy_findings"]

# A trust (assume-role) policy names a Principal instead of a Resource; parliament reports the
# missing Resource as MALFORMED, which is correct for identity policies only.
_TRUST_ONLY = "Statement contains neither Resource nor NotResource"


def _is_trust_policy(document: Any) -> bool:
    statements: Any = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return False
    return bool(statements) and all(
        isinstance(s, dict) and "Principal" in s and "Resource" not in s for s in statements
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def unscoped_actions(document: Any) -> list[str]:
    """Actions granted on Resource "*" although AWS lets them be scoped to resource ARNs.

    parliament's RESOURCE_STAR only considers resource types AWS marks as required, which for
    e.g. ec2:AssociateAddress is none, so this repeats the check over every resource type its
    authorization reference lists for the action.
    """
    from parliament.statement import get_privilege_info

    found = []
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in _as_list(statements):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "*" not in _as_list(statement.get("Resource", [])):
            continue
        for action in _as_list(statement.get("Action", [])):
            service, _, name = str(action).partition(":")
            if not name or "*" in name:
                continue
            try:
                info = get_privilege_info(service.lower(), name)
            except Exception:  # unknown action: parliament reports UNKNOWN_ACTION
                continue
            types = sorted({t["resource_type"].rstrip("*") for t in info["resource_types"]} - {""})
            if types:
                found.append(
                    f"RESOURCE_STAR_SCOPABLE: {action} supports resource-level "
                    f"permissions ({', '.join(types)}) but is granted on Resource *"
                )
    return found


def policy_findings(text: str) -> list[str]:
    """Parliament's findings for one policy document, as `ISSUE: detail` strings."""
    try:
        from parliament import analyze_policy_string
    except ImportError as exc:
        raise Unavailable.python(exc) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [f"MALFORMED_JSON: {exc}"]
    trust = _is_trust_policy(document)
    policy = analyze_policy_string(text, include_community_auditors=True)
    found = []
    for finding in policy.findings:
        if trust and finding.issue == "MALFORMED" and finding.detail == _TRUST_ONLY:
            continue
        found.append(f"{finding.issue}: {finding.detail}")
    return found + unscoped_actions(document)


# What templatefile puts where a .tftpl says ${account_id} (AWS's documentation example), and,
# in the module's own-route-table policy (private VIPs), ${route_table_arn}: an example ARN of
# the type the module fills in (aws_route_table.public.arn).
EXAMPLE_ACCOUNT = "123456789012"
EXAMPLES = {
    "${account_id}": EXAMPLE_ACCOUNT,
    "${route_table_arn}": (
        f"arn:aws:ec2:us-east-1:{EXAMPLE_ACCOUNT}:route-table/rtb-0123456789abcdef0"
    ),
}


def _filled(text: str, template: bool) -> str:
    """`text` as templatefile returns it: the examples in, and `$${` (an escaped `${`, such as
    an IAM policy variable) back to `${`."""
    if not template:
        return text
    for placeholder, example in EXAMPLES.items():
        text = text.replace(placeholder, example)
    return text.replace("$${", "${")


def check_iam(ctx: Context) -> Outcome:
    """Every policies/*.json under terraform/ (the regions' and the module's) passes parliament
    with no finding, and so does every *.json.tftpl with example values (EXAMPLES) where
    Terraform fills in the real ones."""
    terraform = ctx.bundle / "terraform"
    files: list[Path] = sorted(
        [*terraform.rglob("policies/*.json"), *terraform.rglob("policies/*.json.tftpl")]
    )
    if not files:
        return Outcome(("terraform/*/policies/: no policy documents found",))
    findings = [
        f"{ctx.rel(path)}: {problem}"
        for path in files
        for problem in policy_findings(
            _filled(path.read_text(encoding="utf-8"), path.name.endswith(".tftpl"))
        )
    ]
    return Outcome(tuple(findings), f"{len(files)} policy documents")
