"""Stage 5, write: put a rendered bundle on disk without ever leaving a half-written file.

Each file is written to a temporary sibling and moved into place with `os.replace`, which is
atomic on POSIX, and gets the mode the bundle says (scripts 0755, the rest 0644), whatever the
umask. Files in the output directory that the bundle does not contain are left alone.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hacompile.render.bundle import Bundle


@dataclass(frozen=True)
class WriteResult:
    written: tuple[str, ...]  # created or changed
    unchanged: tuple[str, ...]


def write(bundle: Bundle, out_dir: Path) -> WriteResult:
    written: list[str] = []
    unchanged: list[str] = []
    for file in bundle.files:
        target = out_dir.joinpath(*file.path.parts)
        if (target.is_file() and not target.is_symlink() and target.read_bytes() == file.content
                and (target.stat().st_mode & 0o777) == file.mode):
            unchanged.append(str(file.path))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(file.content)
            os.chmod(tmp, file.mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(str(file.path))
    return WriteResult(tuple(written), tuple(unchanged))
