"""The output directory is untrusted input (issue 11): a bundle checked out from a repository
may carry a hostile manifest or journal, symlinked directories, or junk in its bookkeeping.

Every attack runs the CLI (`hacompile build|diff ... -o out`) in a temporary directory next to
a victim file outside `out/` that must survive byte for byte. Bad bookkeeping is exit 2 with a
message naming the file (and the entry, or JSON's line and column), never a traceback and never
a write outside `out/`. The CLI runs in-process (`invoke_cli`, which raises any exception that
escapes the CLI, where the real process would print a traceback), except the deeply nested
files: those run the real process under the CPU and memory limits of tests/hostile/clirun.py,
because bounded time and memory is what they test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hacompile import manifest
from hacompile.write import JOURNAL, WriteError, write
from tests.conftest import invoke_cli
from tests.hostile.clirun import CliResult, run_cli
from tests.hostile.test_properties import PROFILE
from tests.workflow.conftest import BLOG, bundle_of, snapshot

VICTIM = b"the victim: outside out/, must survive untouched\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """tmp_path holding ha.yaml, a built out/, and victim.txt beside out/ (not inside it)."""
    (tmp_path / "ha.yaml").write_text(BLOG.read_text())
    (tmp_path / "victim.txt").write_bytes(VICTIM)
    built = hacompile(tmp_path, "build", "ha.yaml", "-o", "out")
    assert built.rc == 0, built.stderr
    return tmp_path


def hacompile(site: Path, *args: str, real: bool = False) -> CliResult:
    """The CLI in `site`: in-process, or with `real` the process under resource limits."""
    if real:
        return run_cli(list(args), cwd=site)
    result = invoke_cli(*args, cwd=site, env={"COLUMNS": "200"})
    return CliResult(result.returncode, result.stdout, result.stderr)


def refused(result: CliResult, *fragments: str) -> None:
    """Exit 2 with every fragment in stderr, and no traceback."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.rc == 2, (result.rc, result.stdout, result.stderr)
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def intact(site: Path) -> None:
    assert (site / "victim.txt").read_bytes() == VICTIM


def add_to_manifest(out: Path, rel: str, sha: str) -> None:
    path = out / manifest.NAME
    document = json.loads(path.read_text())
    document["files"][rel] = {"sha256": sha, "mode": "0644"}
    path.write_text(json.dumps(document, indent=2))


# --- paths in the manifest ---------------------------------------------------------------------

BAD_PATHS = {
    "dotdot": "../victim.txt",
    "dotdot_inside": "ansible/../../victim.txt",
    "backslash": "..\\victim.txt",
    "nul": "victim.txt\x00",
    "empty_component": "ansible//site.yml",
    "dot_component": "./README.md",
    "trailing_slash": "ansible/",
    "empty": "",
    "the_lock": ".hacompile-lock",
    "the_journal": JOURNAL,
    "a_backup": "ansible/.site.yml.hacompile-old",
}


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize("name", sorted(BAD_PATHS))
def test_manifest_entry_outside_out_is_refused(site: Path, name: str, force: bool) -> None:
    """The attack: a manifest entry `../victim.txt` with the victim's real hash made build
    delete it (exit 0, "1 removed"); with a wrong hash, --force deleted it anyway."""
    sha = manifest.sha256(VICTIM) if not force else "0" * 64
    add_to_manifest(site / "out", BAD_PATHS[name], sha)
    result = hacompile(site, "build", "ha.yaml", "-o", "out", *(["--force"] if force else []))
    refused(result, f"out/{manifest.NAME}", f"files[{json.dumps(BAD_PATHS[name])}]")
    intact(site)


def test_absolute_manifest_entry_is_refused(site: Path) -> None:
    victim = str(site / "victim.txt")
    add_to_manifest(site / "out", victim, manifest.sha256(VICTIM))
    refused(hacompile(site, "build", "ha.yaml", "-o", "out"), "is absolute")
    intact(site)


def test_manifest_entry_through_a_linked_directory_is_refused(site: Path) -> None:
    elsewhere = site / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "victim.txt").write_bytes(VICTIM)
    (site / "out" / "link").symlink_to(elsewhere)
    add_to_manifest(site / "out", "link/victim.txt", manifest.sha256(VICTIM))
    refused(hacompile(site, "build", "ha.yaml", "-o", "out"), "out/link", "symbolic link")
    assert (elsewhere / "victim.txt").read_bytes() == VICTIM


# --- the journal -------------------------------------------------------------------------------


def test_journal_cannot_delete_outside_out(site: Path) -> None:
    journal = {"entries": [{"path": "../victim.txt", "backup": False}], "dirs": []}
    (site / "out" / JOURNAL).write_text(json.dumps(journal))
    refused(
        hacompile(site, "build", "ha.yaml", "-o", "out"),
        f"out/{JOURNAL}",
        'entries[0].path: "../victim.txt"',
    )
    intact(site)


def test_journal_cannot_remove_a_directory_outside_out(site: Path) -> None:
    (site / "empty").mkdir()
    (site / "out" / JOURNAL).write_text(json.dumps({"entries": [], "dirs": ["../empty"]}))
    refused(hacompile(site, "build", "ha.yaml", "-o", "out"), 'dirs[0]: "../empty"')
    assert (site / "empty").is_dir()


def test_journal_cannot_move_a_backup_outside_out(site: Path) -> None:
    (site / ".victim.txt.hacompile-old").write_bytes(b"attacker's content\n")
    journal = {"entries": [{"path": "../victim.txt", "backup": True}], "dirs": []}
    (site / "out" / JOURNAL).write_text(json.dumps(journal))
    refused(hacompile(site, "build", "ha.yaml", "-o", "out"), "entries[0].path")
    intact(site)
    assert (site / ".victim.txt.hacompile-old").read_bytes() == b"attacker's content\n"


def test_journal_entry_through_a_linked_directory_is_refused(site: Path) -> None:
    elsewhere = site / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "victim.txt").write_bytes(VICTIM)
    (site / "out" / "link").symlink_to(elsewhere)
    journal = {"entries": [{"path": "link/victim.txt", "backup": False}], "dirs": []}
    (site / "out" / JOURNAL).write_text(json.dumps(journal))
    refused(hacompile(site, "build", "ha.yaml", "-o", "out"), "out/link", "symbolic link")
    assert (elsewhere / "victim.txt").read_bytes() == VICTIM


CORRUPT = {  # content -> what the message must say (after the file name)
    "not_json": (b"{not json", ":1:2: error: not JSON"),
    "not_utf8": (b'{"entries": ["\xff"]}', ":1:15: error: not UTF-8"),
    "unknown_keys": (b'{"x": 1}', ": error: entries: missing"),
    "a_list": (b"[]", ": error: must be a JSON object"),
    "path_not_a_string": (b'{"entries": [{"path": 5}]}', ": error: entries[0].path: must be a"),
    "no_backup_flag": (
        b'{"entries": [{"path": "README.md"}]}',
        ": error: entries[0].backup: missing",
    ),
    "dirs_not_strings": (b'{"entries": [], "dirs": [3]}', ": error: dirs[0]: must be a"),
    "deep_nesting": (b"[" * 100_000, ": error: nests too deeply"),
}


@pytest.mark.parametrize("command", ["build", "check", "diff"])
@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_journal_is_a_located_error(site: Path, name: str, command: str) -> None:
    content, message = CORRUPT[name]
    (site / "out" / JOURNAL).write_bytes(content)
    before = snapshot(site)
    args = {"build": ["build"], "check": ["build", "--check"], "diff": ["diff"]}[command]
    result = hacompile(site, *args, "ha.yaml", "-o", "out", real=name == "deep_nesting")
    refused(result, f"out/{JOURNAL}{message}")
    assert snapshot(site) == before


def test_located_error_as_json(site: Path) -> None:
    (site / "out" / JOURNAL).write_bytes(b"{not json")
    result = hacompile(site, "build", "ha.yaml", "-o", "out", "--json")
    document = json.loads(result.stdout)
    assert result.rc == 2 and not document["ok"], result.stderr
    assert document["where"] == f"out/{JOURNAL}:1:2"
    assert document["error"].startswith("not JSON: ")


def test_linked_journal_is_refused(site: Path) -> None:
    (site / "out" / JOURNAL).symlink_to(site / "victim.txt")
    refused(hacompile(site, "build", "ha.yaml", "-o", "out"), f"out/{JOURNAL}", "symbolic link")
    intact(site)


# --- a corrupt or foreign manifest -------------------------------------------------------------

BAD_MANIFESTS = {
    "not_json": (b"{not json", ":1:2: error: not JSON"),
    "a_list": (b"[]", ": error: must be a JSON object"),
    "foreign": (b'{"generator": "other", "files": {}}', ": error: generator: not a hacompile"),
    "files_not_a_map": (
        b'{"generator": "hacompile", "format": 1, "files": 3}',
        ": error: files: must be a JSON object",
    ),
    "no_hash": (
        b'{"generator": "hacompile", "format": 1, "files": {"README.md": {}}}',
        ': error: files["README.md"].sha256: missing',
    ),
    "deep_nesting": (b'{"files": ' + b"[" * 100_000, ": error: nests too deeply"),
}


@pytest.mark.parametrize("command", ["build", "force", "check", "diff"])
@pytest.mark.parametrize("name", sorted(BAD_MANIFESTS))
def test_corrupt_manifest_is_a_located_error_and_nothing_changes(
    site: Path, name: str, command: str
) -> None:
    """A manifest hacompile cannot read says nothing about which files are its own: never act
    on it (not even with --force), say so, and name the file."""
    content, message = BAD_MANIFESTS[name]
    (site / "out" / manifest.NAME).write_bytes(content)
    stale = site / "out" / "ansible" / "site.yml"
    stale.write_text("# a hand edit\n")
    before = snapshot(site)
    args = {
        "build": ["build"],
        "force": ["build", "--force"],
        "check": ["build", "--check"],
        "diff": ["diff"],
    }[command]
    result = hacompile(site, *args, "ha.yaml", "-o", "out", real=name == "deep_nesting")
    refused(result, f"out/{manifest.NAME}{message}")
    assert snapshot(site) == before


# --- symlinked directories inside the bundle ---------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["build"], ["build", "--force"], ["build", "--check"], ["diff"]],
    ids=["build", "force", "check", "diff"],
)
def test_linked_directory_in_the_bundle_is_refused(site: Path, args: list[str]) -> None:
    """The attack: with ansible/roles/keepalived/files a link to another directory, build wrote
    six 0755 scripts there (exit 0) and `build --check` then said up to date."""
    files = site / "out" / "ansible" / "roles" / "keepalived" / "files"
    for script in files.iterdir():
        script.unlink()
    files.rmdir()
    elsewhere = site / "elsewhere"
    elsewhere.mkdir()
    files.symlink_to(elsewhere)
    before = snapshot(site)
    refused(
        hacompile(site, *args, "ha.yaml", "-o", "out"),
        "out/ansible/roles/keepalived/files",
        "symbolic link",
    )
    assert snapshot(site) == before
    assert not list(elsewhere.iterdir())


# --- properties: generated bookkeeping paths ---------------------------------------------------

COMPONENTS = st.sampled_from(
    [
        "..",
        ".",
        "",
        "a",
        "ansible",
        "victim.txt",
        "out",
        "link",
        "site.yml",
        "x\x00",
        "..\\victim.txt",
        ".hacompile-lock",
    ]
)


@st.composite
def bookkeeping_paths(draw: st.DrawFn) -> str:
    parts = draw(st.lists(COMPONENTS, min_size=1, max_size=5))
    prefix = draw(st.sampled_from(["", "", "/", "//"]))
    return prefix + "/".join(parts)


@settings(settings.get_profile(PROFILE))
@given(rel=bookkeeping_paths(), linked=st.booleans())
def test_no_manifest_entry_reaches_outside(
    tmp_path_factory: pytest.TempPathFactory, rel: str, linked: bool
) -> None:
    """Whatever path a manifest lists (with the victim's hash, through a linked directory or
    not), write refuses it or it names a file inside out/ that is reached without a link."""
    root = tmp_path_factory.mktemp("prop")
    out = root / "out"
    write(bundle_of(BLOG), out)
    (root / "victim.txt").write_bytes(VICTIM)
    if linked:
        (out / "link").symlink_to(root)
    add_to_manifest(out, rel, manifest.sha256(VICTIM))
    try:
        write(bundle_of(BLOG), out, force=True)
    except WriteError:
        pass
    else:
        parts = rel.split("/")
        assert "" not in parts and "." not in parts and ".." not in parts, rel
        assert not rel.startswith("/") and "\\" not in rel and "\x00" not in rel, rel
        assert not (linked and parts[0] == "link"), rel
        assert os.path.realpath(out / rel).startswith(os.path.realpath(out) + os.sep)
    assert (root / "victim.txt").read_bytes() == VICTIM
