"""The bundle's manifest: which files hacompile wrote, with what content, from which spec.

`build` needs it to tell its own files from the user's: a file listed here whose bytes still
hash to the listed sha256 is hacompile's to replace or remove; a listed file that hashes
differently was edited by hand; a file not listed was never hacompile's. It is deterministic
(no timestamps, sorted keys) so that the golden bundles and `build --check` can compare it.
The spec digest hashes the validated spec (defaults filled in, comments and layout ignored),
so reformatting ha.yaml does not make a bundle stale; any change of meaning does.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

from hacompile import outdir
from hacompile.outdir import WriteError, checked, field
from hacompile.record import Record

NAME = ".hacompile-manifest.json"
FORMAT = 1
_MODE = re.compile("0[0-7]{3}")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def spec_digest(data: Any) -> str:
    """Digest of a validated spec as plain JSON-able data (hacompile.plan.build passes what
    the spec sets, defaults left out)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + sha256(text.encode())


class Entry(Record):
    sha256: str
    mode: int


class Manifest(Record):
    version: str
    spec_file: str
    spec_digest: str
    files: dict[str, Entry]

    def render(self) -> bytes:
        document = {
            "format": FORMAT,
            "generator": "hacompile",
            "hacompile_version": self.version,
            "spec_file": self.spec_file,
            "spec_digest": self.spec_digest,
            "files": {
                path: {"sha256": e.sha256, "mode": f"{e.mode:04o}"}
                for path, e in sorted(self.files.items())
            },
        }
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def build(
    files: list[tuple[PurePosixPath, bytes, int]], version: str, spec_file: str, digest: str
) -> Manifest:
    return Manifest(
        version,
        spec_file,
        digest,
        {str(path): Entry(sha256(content), mode) for path, content, mode in files},
    )


def read(path: Path) -> Manifest | None:
    """The manifest at `path`, None if there is none; `WriteError` if it is not one.

    A manifest hacompile cannot read says nothing about which files are its own, so it is an
    error, not "nothing is ours": the old reading made every file a conflict and `--force`
    then overwrote them all, while a hostile entry could name any file. Now a build, `--check`
    and `diff` stop at it, name it, and touch nothing; every listed path is checked
    (`outdir.checked`) before anything acts on it.
    """
    try:
        document = outdir.read_json(path)
        return None if document is None else parse(document, str(path))
    except WriteError as exc:
        raise WriteError(
            f"{exc}; hacompile cannot tell its files from yours by it: check it, "
            "then remove it and build with --force (which replaces the files the "
            "bundle needs and removes none)",
            exc.where,
        ) from None


def parse(document: object, where: str) -> Manifest:
    """The manifest in a loaded JSON `document`; `WriteError` (located at `where`) if not."""
    if not isinstance(document, dict):
        raise WriteError("must be a JSON object: not a manifest hacompile wrote", where)
    if document.get("generator") != "hacompile":
        generator = outdir.shown(str(document.get("generator")))
        raise WriteError(f"generator: not a hacompile manifest (generator {generator})", where)
    if field(document, "format", int, where) != FORMAT:
        raise WriteError(
            f"format: {document['format']} is not {FORMAT}, the format this hacompile reads", where
        )
    files = {}
    for rel, entry in field(document, "files", dict, where).items():
        name = f"files[{outdir.shown(rel)}]"
        digest = field(entry, "sha256", str, where, name)
        mode = field(entry, "mode", str, where, name)
        if not _MODE.fullmatch(mode):
            raise WriteError(f"{name}.mode: {outdir.shown(mode)} is not an octal file mode", where)
        files[checked(rel, where, name)] = Entry(digest, int(mode, 8))
    return Manifest(
        str(field(document, "hacompile_version", str, where)),
        str(field(document, "spec_file", str, where)),
        str(field(document, "spec_digest", str, where)),
        files,
    )
