"""Rendered-config checkers: keepalived, haproxy and shellcheck on what Ansible would install.

Why render first: the bundle ships Jinja templates, and only the rendered files can be fed to
the daemons' own parsers. `ansible_render` renders every LB of every region with fixture IDs;
then each keepalived.conf is tested twice inside a throwaway network namespace that has the
configured interface and management address:

- `keepalived -t -f FILE`: in 2.2.7 it exits 143 even for a good config and reports problems
  only as text, so any output is a finding;
- a real start (a few seconds, foreground, logging to the console) in a private mount
  namespace, with the notify/check scripts replaced by root-owned stand-ins at their installed
  paths and the script user present, because script-security and truncation warnings are only
  printed at start-up. Stand-ins, not the real scripts: a notify script must never move a real
  EIP from a verification run.
"""

from __future__ import annotations

import grp
import pwd
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hacompile.standins.ansible_render import (
    RenderedLb,
    RenderError,
    bundled_lua,
    render_bundle,
)
from hacompile.verify.base import Context, Outcome, run_tool
from hacompile.verify.netns import Namespace
from hacompile.verify.tools import executable
from hacompile.verify.vipcheck import address_findings

__all__ = ["check_haproxy", "check_keepalived", "check_shellcheck", "priority_findings", "rendered"]

START_SECONDS = 2
# Lines keepalived prints at start-up that are findings. "SECURITY" covers script security,
# "runcat" the auth_pass/router_id truncation warnings.
_BAD = re.compile(
    r"SECURITY|[Tt]runcat|WARNING|Unknown keyword|[Ee]rror|[Ii]nvalid|insecure|not accessible"
    r"|not executable|doesn't exist|does not exist|unsafe|[Cc]annot|failed|Unable to"
)
# ...except these, which are expected in this architecture or in the sandbox:
_EXPECTED = re.compile(
    # EIPs are moved by the notify scripts, never as VRRP virtual addresses (VRRPv2 only:
    # for v3 keepalived says "at least one is required" and refuses to run).
    r"No VIP specified; at least one is sensible"
    # Health checks may fail in the sandbox (no sshd/haproxy); failing is their job.
    r"|VRRP_Script\(\w+\) (failed|succeeded)|Script `\w+` now returning"
    # track_process uses the kernel's process-event connector, which only the host's initial
    # network namespace has; on a real LB it works.
    r"|Failed to set/clear process event listen - errno 111"
)
_SCRIPT_PATH = re.compile(r'(?:script|notify\w*)\s+"?(/usr/local/sbin/[\w.-]+)')
_SCRIPT_USER = re.compile(r"^\s*script_user\s+(\S+)", re.MULTILINE)
_HAPROXY_USER = re.compile(r"^\s*user\s+(\S+)", re.MULTILINE)
_HAPROXY_GROUP = re.compile(r"^\s*group\s+(\S+)", re.MULTILINE)
# A backend named by DNS cannot resolve offline; with `init-addr last,libc,none` HAProxy then
# starts with that server disabled until DNS answers, which is what the bundle asks for.
_HAPROXY_OFFLINE = re.compile(r"WARNING.*could not resolve address '[^']+', disabling server")
_INTERFACE = re.compile(r"^\s*interface\s+(\S+)", re.MULTILINE)
_VRRP_PRIORITY = re.compile(r"^\s*vrrp_priority\s+(-?\d+)", re.MULTILINE)
_CHILD_NICE = re.compile(r"^hacompile-child-nice: (-?\d+)$", re.MULTILINE)

_SANDBOX = """set -eu
mount -t tmpfs -o mode=0755 hacompile-run /run
# What the keepalived role creates on a host (tmpfiles.d): the state and track-file directory.
mkdir -p /run/hacompile/state
mount --bind "$1" /usr/local/sbin
if [ -n "$4" ]; then mount --bind "$4" /etc/passwd; mount --bind "$5" /etc/group; fi
if [ "$3" = test ]; then exec "$6" -t -f "$2"; fi
timeout -s TERM -k 3 "$3" "$6" -n -l --no-syslog -f "$2" &
runner=$!
# The nice value of each process the keepalived parent forked (the VRRP child), to show that
# vrrp_priority took effect; children of this run only, as other keepalived processes may run
# on the host. Polled (at most 12 x 0.1 s) so that a slow start is not mistaken for none.
sleep 0.3
tries=0
while [ "$tries" -lt 12 ]; do
    tries=$((tries + 1))
    kids=
    for parent in $(pgrep -P "$runner" || :); do
        kids="$kids $(pgrep -P "$parent" || :)"
    done
    if [ -n "$(echo $kids)" ]; then
        sleep 0.1
        for child in $kids; do
            echo "hacompile-child-nice: $(ps -o ni= -p "$child" | tr -d ' ')"
        done
        break
    fi
    sleep 0.1
done
wait "$runner"
"""


def rendered(ctx: Context) -> tuple[RenderedLb, ...]:
    """Every LB's rendered configs (rendered once per verify run, shared by the checkers)."""
    if "rendered" not in ctx.cache:
        try:
            ctx.cache["rendered"] = render_bundle(ctx.bundle, ctx.workdir / "rendered")
        except RenderError as exc:
            ctx.cache["rendered"] = exc
    value = ctx.cache["rendered"]
    if isinstance(value, RenderError):
        raise value
    result: tuple[RenderedLb, ...] = value
    return result


def _render_or_finding(ctx: Context) -> tuple[tuple[RenderedLb, ...], tuple[str, ...]]:
    try:
        return rendered(ctx), ()
    except RenderError as exc:
        return (), (f"rendering the roles' templates with Ansible failed: {exc}",)


def _label(ctx: Context, lb: RenderedLb, path: Path) -> str:
    return f"{lb.lb.region}/{lb.lb.host}/{path.name}"


def _identity_files(
    ctx: Context, users: set[str], groups: set[str]
) -> tuple[Path | None, Path | None]:
    """passwd/group copies adding the users/groups this machine lacks (None if none lacks).

    Bind-mounted over /etc/passwd and /etc/group in a private mount namespace, they let a
    daemon resolve the accounts the real package (e.g. HAProxy Enterprise's hapee-lb) creates.
    """
    missing_users, missing_groups = [], []
    for user in sorted(users):
        try:
            pwd.getpwnam(user)
        except KeyError:
            missing_users.append(user)
    for name in sorted(groups | set(missing_users)):
        try:
            grp.getgrnam(name)
        except KeyError:
            missing_groups.append(name)
    if not missing_users and not missing_groups:
        return None, None
    tag = "-".join(missing_users + missing_groups)[:40]
    passwd, group = ctx.workdir / f"passwd-{tag}", ctx.workdir / f"group-{tag}"
    lines_p = Path("/etc/passwd").read_text(encoding="utf-8").rstrip("\n").split("\n")
    lines_g = Path("/etc/group").read_text(encoding="utf-8").rstrip("\n").split("\n")
    for n, name in enumerate(missing_groups):
        lines_g.append(f"{name}:x:{64900 + n}:")
    for n, user in enumerate(missing_users):
        gid = 64900 + missing_groups.index(user) if user in missing_groups else 65534
        shell = "/usr/sbin/nologin"
        lines_p.append(f"{user}:x:{64800 + n}:{gid}:hacompile verify:/nonexistent:{shell}")
    passwd.write_text("\n".join(lines_p) + "\n", encoding="utf-8")
    group.write_text("\n".join(lines_g) + "\n", encoding="utf-8")
    for path in (passwd, group):
        path.chmod(0o644)
    return passwd, group


def _sandbox_files(
    ctx: Context, conf_text: str, scratch: Path
) -> tuple[Path, Path | None, Path | None]:
    """Stand-in scripts dir, and passwd/group copies if the script user does not exist."""
    sbin = scratch / "sbin"
    sbin.mkdir(mode=0o755, exist_ok=True)
    sbin.chmod(0o755)
    for script in set(_SCRIPT_PATH.findall(conf_text)):
        stub = sbin / Path(script).name
        stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        stub.chmod(0o755)
    users = set(_SCRIPT_USER.findall(conf_text))
    passwd, group = _identity_files(ctx, users, set())
    return sbin, passwd, group


def keepalived_findings(
    ctx: Context, ns: Namespace, keepalived: Path, conf: Path, label: str
) -> list[str]:
    """`keepalived -t` and a short real start of one config inside `ns`; findings as text."""
    text = conf.read_text(encoding="utf-8")
    findings = []
    scratch = ctx.workdir / "keepalived" / ns.name
    scratch.mkdir(parents=True, exist_ok=True)
    sbin, passwd, group = _sandbox_files(ctx, text, scratch)
    script = scratch / "sandbox.sh"
    script.write_text(_SANDBOX, encoding="utf-8")

    def sandbox(mode: str) -> subprocess.CompletedProcess[str]:
        return ns.run(
            [
                "sh",
                str(script),
                str(sbin),
                str(conf),
                mode,
                str(passwd or ""),
                str(group or ""),
                str(keepalived),
            ],
            timeout=START_SECONDS + 30,
        )

    test = sandbox("test")
    out = [
        ln
        for ln in (test.stdout + test.stderr).splitlines()
        if ln.strip() and not _EXPECTED.search(ln)
    ]
    findings += [
        f"{label}: keepalived -t: {line.strip().replace(str(conf), conf.name)}" for line in out
    ]
    if not out and test.returncode not in (0, 143, -15):
        findings.append(f"{label}: keepalived -t exited {test.returncode} with no output")
    start = sandbox(str(START_SECONDS))
    log = start.stdout + start.stderr
    if "Startup complete" not in log and "Starting VRRP child" not in log:
        findings.append(f"{label}: keepalived did not start: {log.strip()[-1500:]}")
    else:
        findings += priority_findings(label, text, log)
    for line in log.splitlines():
        if line.startswith("hacompile-child-nice: "):
            continue
        if _BAD.search(line) and not _EXPECTED.search(line):
            message = line.split(": ", 1)[1] if re.match(r"^\w{3} \w{3} ", line) else line
            message = message.strip().replace(str(conf), conf.name)
            findings.append(f"{label}: keepalived start: {message}")
    return findings


def priority_findings(label: str, conf_text: str, log: str) -> list[str]:
    """The config's `vrrp_priority` against the nice value the sandbox saw on the VRRP child:
    a priority keepalived could not apply is only an INFO line in its log."""
    wanted = _VRRP_PRIORITY.search(conf_text)
    if not wanted:
        return []
    seen = _CHILD_NICE.findall(log)
    if not seen:
        return [f"{label}: keepalived start: no VRRP child seen to check vrrp_priority on"]
    if wanted.group(1) not in seen:
        return [
            f"{label}: keepalived start: vrrp_priority {wanted.group(1)} did not take "
            f"effect (the VRRP child runs at nice {', '.join(seen)})"
        ]
    return []


def _one_keepalived(ctx: Context, keepalived: Path, lb: RenderedLb) -> list[str]:
    """Test and start one LB's config in a namespace of its own (so LBs run in parallel)."""
    text = lb.keepalived_conf.read_text(encoding="utf-8")
    with Namespace() as ns:
        for n, ifname in enumerate(sorted(set(_INTERFACE.findall(text)))):
            ns.veth(ifname, f"hcp{n}")
            ns.set_address(ifname, f"{lb.lb.management_ip}/24")
        label = _label(ctx, lb, lb.keepalived_conf)
        return address_findings(label, text, lb.lb, lb.interface) + keepalived_findings(
            ctx, ns, keepalived, lb.keepalived_conf, label
        )


def check_keepalived(ctx: Context) -> Outcome:
    """Every rendered keepalived.conf passes `keepalived -t` and starts without warnings, and
    its instances' virtual addresses are the private VIPs' (hacompile.verify.vipcheck)."""
    keepalived = executable("keepalived")
    lbs, findings = _render_or_finding(ctx)
    if findings:
        return Outcome(findings)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda lb: _one_keepalived(ctx, keepalived, lb), lbs))
    problems = [finding for result in results for finding in result]
    return Outcome(tuple(problems), f"{len(lbs)} configs tested and started")


def check_haproxy(ctx: Context) -> Outcome:
    """Every rendered haproxy.cfg passes `haproxy -c`; warnings count as findings."""
    haproxy = executable("haproxy")
    lbs, findings = _render_or_finding(ctx)
    if findings:
        return Outcome(findings)
    problems = []
    for lb in lbs:
        text = lb.haproxy_cfg.read_text(encoding="utf-8")
        users = set(_HAPROXY_USER.findall(text))
        groups = set(_HAPROXY_GROUP.findall(text))
        passwd, group = _identity_files(ctx, users, groups)
        cfg = _with_bundle_lua(lb, text, ctx.bundle)
        argv = [str(haproxy), "-c", "-f", str(cfg)]
        if passwd is not None and group is not None:
            argv = [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && '
                'shift 2 && exec "$@"',
                "sh",
                str(passwd),
                str(group),
                *argv,
            ]
        proc = run_tool(argv, timeout=30)
        label = _label(ctx, lb, lb.haproxy_cfg)
        lines = [
            ln.strip().replace(str(cfg), lb.haproxy_cfg.name)
            for ln in (proc.stdout + proc.stderr).splitlines()
            if ("WARNING" in ln or "ALERT" in ln) and not _HAPROXY_OFFLINE.search(ln)
        ]
        if proc.returncode != 0 or lines:
            problems += [f"{label}: {ln}" for ln in lines] or [
                f"{label}: haproxy -c exited {proc.returncode}: {proc.stderr.strip()[-500:]}"
            ]
    return Outcome(tuple(problems), f"{len(lbs)} configs")


def _with_bundle_lua(lb: RenderedLb, text: str, bundle: Path) -> Path:
    """`lb`'s haproxy.cfg, or a copy that loads the bundle's Lua file (`bundled_lua`): with
    `metrics` the config loads a Lua service it then references, so `haproxy -c` needs it;
    with `tls` it names certificate files the play would have fetched: stand-ins here
    (hacompile.standins.tls)."""
    from hacompile.standins.tls import bundle_tls_items, standin_tls

    checked_text = bundled_lua(text, bundle)
    checked_text = standin_tls(
        checked_text, bundle_tls_items(bundle), lb.directory / "checked" / "tls"
    )
    if checked_text == text:
        return lb.haproxy_cfg
    checked = lb.directory / "checked"
    checked.mkdir(exist_ok=True)
    copy = checked / lb.haproxy_cfg.name
    copy.write_text(checked_text, encoding="utf-8")
    return copy


def check_shellcheck(ctx: Context) -> Outcome:
    """shellcheck on every shell script the bundle installs (files with a sh/bash shebang)."""
    shellcheck = executable("shellcheck")
    scripts = []
    for path in sorted((ctx.bundle / "ansible" / "roles").glob("*/files/*")):
        if path.is_file():
            with path.open("rb") as handle:
                head = handle.readline()
            if re.match(rb"#!\s*/(usr/)?bin/(env\s+)?(ba|da)?sh\b", head):
                scripts.append(path)
    if not scripts:
        return Outcome((), "no scripts")
    proc = run_tool(
        [str(shellcheck), "--format", "gcc", "--external-sources", *map(str, scripts)],
        cwd=ctx.bundle,
        timeout=120,
    )
    problems = [
        ctx.rel(Path(line.split(":", 1)[0])) + ":" + line.split(":", 1)[1]
        for line in proc.stdout.splitlines()
        if ":" in line
    ]
    if proc.returncode != 0 and not problems:
        problems.append(f"shellcheck exited {proc.returncode}: {proc.stderr.strip()}")
    return Outcome(tuple(problems), f"{len(scripts)} scripts")
