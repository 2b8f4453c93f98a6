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
from pathlib import PurePosixPath
from typing import Any, NamedTuple

NAME = ".hacompile-manifest.json"
FORMAT = 1


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def spec_digest(data: Any) -> str:
    """Digest of a validated spec as plain JSON-able data."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + sha256(text.encode())


class Entry(NamedTuple):
    sha256: str
    mode: int


class Manifest(NamedTuple):
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
            "files": {path: {"sha256": e.sha256, "mode": f"{e.mode:04o}"}
                      for path, e in sorted(self.files.items())},
        }
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def build(files: list[tuple[PurePosixPath, bytes, int]], version: str, spec_file: str,
          digest: str) -> Manifest:
    return Manifest(version, spec_file, digest,
                    {str(path): Entry(sha256(content), mode) for path, content, mode in files})


def parse(content: bytes) -> Manifest | None:
    """The manifest in `content`, or None if it is not one (then nothing counts as ours)."""
    try:
        document = json.loads(content)
        files = {str(path): Entry(str(e["sha256"]), int(str(e["mode"]), 8))
                 for path, e in document["files"].items()}
        return Manifest(str(document["hacompile_version"]), str(document["spec_file"]),
                        str(document["spec_digest"]), files)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
