"""The output directory is untrusted input: its bookkeeping files and its directory tree.

A bundle is often checked out from a repository, so `.hacompile-manifest.json` and
`.hacompile-journal.json` may have been written by anyone. They name files that `build` will
replace, remove, or restore from a backup, so every path they carry must name a file inside
the output directory and nothing else: relative, normalised (no `.`, `..` or empty component),
no backslash or NUL, not one of hacompile's own bookkeeping names. And no path, from the
bookkeeping or from the bundle, is ever reached through a symbolic link to a directory inside
the output directory: a linked `ansible/roles/x/files` would otherwise let a build write (or
delete) wherever the link points. The output directory itself may be a link: the user named it.

The bookkeeping files are read with `O_NOFOLLOW`, a size cap and JSON errors located at the
line and column `json` reports, so a corrupt or foreign file is a `WriteError` naming it, never a
traceback. Errors carry `where` (FILE or FILE:LINE:COL) apart from the message, so the CLI can
print them as every other located error: `WHERE: error: MESSAGE`.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

JOURNAL = ".hacompile-journal.json"
LOCK = ".hacompile-lock"
NEW, OLD = ".hacompile-new", ".hacompile-old"
MAX_BYTES = 64 << 20  # a 700-file manifest is ~100 KB; anything near this is not ours


class WriteError(Exception):
    """The output directory cannot be written as asked; the message says why and what to do."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


def side(target: Path, suffix: str) -> Path:
    """Where a file's staged copy (NEW) or backup (OLD) lives: beside it, hidden."""
    return target.with_name(f".{target.name}{suffix}")


def shown(text: str) -> str:
    """`text` quoted with every control character escaped: hostile names stay one line."""
    return json.dumps(text, ensure_ascii=True)


def checked(value: object, where: str, entry: str) -> str:
    """`value` if it is a safe relative path inside the output directory, else `WriteError`."""
    if not isinstance(value, str):
        raise WriteError(f"{entry}: must be a path (a string), got {type(value).__name__}", where)
    parts = value.split("/")
    problem = (
        "is empty"
        if not value
        else "is absolute"
        if value.startswith("/")
        else "contains a backslash"
        if "\\" in value
        else "contains NUL"
        if "\x00" in value
        else "leaves the output directory (`..`)"
        if ".." in parts
        else "is not normalised (`.` or an empty component)"
        if {"", "."} & set(parts)
        else "names hacompile's own bookkeeping"
        if value in (JOURNAL, LOCK) or parts[-1].endswith((NEW, OLD))
        else ""
    )
    if problem:
        raise WriteError(
            f"{entry}: {shown(value)} {problem}; refusing to act on it "
            "(the file was edited or not written by hacompile)",
            where,
        )
    return value


class Tree:
    """Targets under one output directory, refusing any that lies beyond a linked directory.

    Each directory is looked at once (`lstat`) per Tree, so checking a 700-file bundle costs a
    few dozen system calls, not thousands.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._linked: dict[str, bool] = {}

    def target(self, rel: str, where: str = "", entry: str = "") -> Path:
        """The path of `rel` under the root; `WriteError` if a parent directory is a link."""
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if directory not in self._linked:
                self._linked[directory] = os.path.islink(self.root.joinpath(*parts[:depth]))
            if self._linked[directory]:
                self._refuse(directory, rel, where, entry)
        return self.root.joinpath(*parts)

    def _refuse(self, directory: str, rel: str, where: str, entry: str) -> None:
        link = self.root.joinpath(*directory.split("/"))
        try:
            points = f" (to {shown(os.readlink(link))})"
        except OSError:
            points = ""
        about = f"{entry}: " if entry else ""
        raise WriteError(
            f"{about}{link} is a symbolic link{points} and {shown(rel)} lies beyond it: "
            "hacompile never reads or writes through a linked directory in its output, not even "
            "with --force; replace the link with a real directory and build again",
            where,
        )


def read_json(path: Path) -> Any:
    """The JSON document in `path`, or None if there is none; `WriteError` for anything else.

    Opened with O_NOFOLLOW | O_NONBLOCK and checked with fstat: a link, a FIFO or a device is
    refused without being followed or blocking, and a huge file without being read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        reason = (
            "is a symbolic link" if exc.errno == errno.ELOOP else f"cannot be read: {exc.strerror}"
        )
        raise WriteError(
            f"{reason}; hacompile did not write it: check it and remove it", str(path)
        ) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise WriteError("is not a regular file; hacompile did not write it", str(path))
        if info.st_size > MAX_BYTES:
            raise WriteError(
                f"is {info.st_size} bytes; hacompile writes at most {MAX_BYTES}", str(path)
            )
        content = handle.read(MAX_BYTES + 1)
    return _parse(content, str(path))


def _parse(content: bytes, name: str) -> Any:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WriteError(
            "not UTF-8: hacompile did not write this file", _at(name, content[: exc.start])
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise WriteError(
            f"not JSON: {exc.msg}; hacompile did not write this file",
            f"{name}:{exc.lineno}:{exc.colno}",
        ) from None
    except RecursionError:
        raise WriteError("nests too deeply to be a file hacompile wrote", name) from None


def _at(name: str, before: bytes) -> str:
    line = before.count(b"\n") + 1
    column = len(before) - (before.rfind(b"\n") + 1) + 1
    return f"{name}:{line}:{column}"


def field(document: object, key: str, kind: type, where: str, prefix: str = "") -> Any:
    """`document[key]`, which must be a `kind`; `WriteError` naming `prefix.key` otherwise."""
    if not isinstance(document, dict):
        raise WriteError(f"{prefix + ': ' if prefix else ''}must be a JSON object", where)
    name = f"{prefix}.{key}" if prefix else key
    if key not in document:
        raise WriteError(f"{name}: missing", where)
    value = document[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise WriteError(
            f"{name}: must be a{'n' if kind.__name__[0] in 'aeiou' else ''} "
            f"{_KINDS.get(kind, kind.__name__)}, got {shown(str(value))[:60]}",
            where,
        )
    return value


_KINDS = {dict: "JSON object", list: "JSON list", str: "string", bool: "boolean"}
