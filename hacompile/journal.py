"""The write journal: its format, writing it durably, and rolling an interrupted write back.

Before `write` renames its first file it records, for every target, whether a backup
(`.NAME.hacompile-old`, a hard link to the old content) was made, and which directories it
is about to create. A crash at any point before the journal is removed is undone from it by
the next build or `recover`. The journal lives in the output directory, so it is untrusted
input like the rest of it (`hacompile.outdir`): it is read with O_NOFOLLOW and a size cap,
its structure and every path in it are checked, and no path is reached through a linked
directory, before the first file is touched; a journal that fails is a located `WriteError`.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from hacompile.outdir import JOURNAL, NEW, OLD, Tree, WriteError, checked, field, read_json, side
from hacompile.outlock import locked
from hacompile.record import Record


class Journal(Record):
    entries: tuple[tuple[str, bool], ...]  # (path, had a backup)
    dirs: tuple[str, ...]  # directories the interrupted write created


def read(path: Path) -> Journal | None:
    """The journal at `path` (None if there is none), every path checked; a `WriteError` that
    says what to do if it is not one hacompile could have written."""
    try:
        return _read(path)
    except WriteError as exc:
        raise WriteError(
            f"{exc}; nothing was rolled back: check the files it names (an "
            "interrupted build's backups are the .NAME.hacompile-old files beside "
            "them), then remove it",
            exc.where,
        ) from None


def _read(path: Path) -> Journal | None:
    document = read_json(path)
    if document is None:
        return None
    where = str(path)
    if not isinstance(document, dict):
        raise WriteError("must be a JSON object: hacompile did not write this journal", where)
    entries = []
    for index, entry in enumerate(field(document, "entries", list, where)):
        name = f"entries[{index}]"
        rel = checked(field(entry, "path", object, where, name), where, f"{name}.path")
        entries.append((rel, bool(field(entry, "backup", bool, where, name))))
    dirs = document.get("dirs", [])
    if not isinstance(dirs, list):
        raise WriteError("dirs: must be a JSON list", where)
    return Journal(
        tuple(entries), tuple(checked(d, where, f"dirs[{i}]") for i, d in enumerate(dirs))
    )


def write(path: Path, journal: dict[str, object]) -> None:
    """Make `journal` durable at `path` (file and directory fsynced): the first ordering
    point of a write. Its temporary file is created afresh (O_EXCL), never through a link."""
    tmp = side(path, NEW)
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(journal, indent=1) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def recover(out_dir: Path) -> bool:
    """Roll back an interrupted write from its journal; True if there was one."""
    if not out_dir.is_dir():
        return False
    with locked(out_dir):
        return rollback(out_dir)


def rollback(out_dir: Path) -> bool:
    """`recover` under the lock. Every journal path is checked first (`read`) and reached
    without a linked directory (`Tree`), or nothing is rolled back at all; only regular
    files (and the links a backup may be) are moved or removed, never a directory."""
    path = out_dir / JOURNAL
    journal = read(path)
    if journal is None:
        side(path, NEW).unlink(missing_ok=True)
        return False
    tree = Tree(out_dir)
    where = str(path)
    targets = [
        (tree.target(rel, where, f"entries[{i}].path"), backup)
        for i, (rel, backup) in enumerate(journal.entries)
    ]
    dirs = [tree.target(rel, where, f"dirs[{i}]") for i, rel in enumerate(journal.dirs)]
    for target, had_backup in targets:
        backup = side(target, OLD)
        if had_backup:
            if _same(backup, target):  # rename(2) of two links to one inode does nothing
                backup.unlink()
            elif backup.is_symlink() or backup.is_file():
                os.replace(backup, target)
        elif target.is_file() and not target.is_symlink():
            target.unlink()
        side(target, NEW).unlink(missing_ok=True)
    for directory in dirs:
        if not directory.is_symlink():
            with contextlib.suppress(OSError):
                directory.rmdir()
    fsync_dir(out_dir)
    path.unlink()
    return True


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
