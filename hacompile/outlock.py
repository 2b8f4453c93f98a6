"""One build at a time per output directory: an advisory `flock(2)` on `DIR/.hacompile-lock`.

Without it two builds into one directory interleaved their journals and renames: raw
`[Errno 2]` failures, stray `.X.hacompile-old` files, and a build that exited 0 while the other
one's bundle was on disk. A build (and a recovery) holds the lock exclusively; `build --check`
and `diff` hold it shared, so they never read a half-written bundle and never block each
other. A waiter polls for `WAIT` seconds, then gives up with a `WriteError` that says so.

The lock file exists only while someone holds it: the last holder (the one that can take it
exclusively on the way out) removes it, so golden bundles and `--check` never see it and it
is never in the manifest. A waiter that then gets the lock on the removed file notices (its
descriptor's inode is no longer the path's) and opens the path afresh; without that check two
processes could each hold a lock on a different inode. The lock file is opened with
`O_NOFOLLOW` and must be a regular file: a planted link is refused, never followed or removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from hacompile.outdir import LOCK, WriteError

WAIT = 5.0  # seconds a build waits for another one before giving up
_POLL = 0.05
_held: dict[str, bool] = {}  # realpath of an output directory -> held shared (this process)


@contextlib.contextmanager
def locked(out_dir: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the output directory's lock; re-entrant within one process.

    `shared` (for readers) does not create the directory; a directory that does not exist, or
    that a reader may not write in, has no lock to take and nobody writing into it through
    hacompile (a writer needs to create the lock file).
    """
    key = os.path.realpath(out_dir)
    if key in _held:
        if _held[key] and not shared:
            raise RuntimeError(f"{out_dir}: exclusive lock wanted under a shared one")
        yield
        return
    fd = _acquire(out_dir, shared)
    _held[key] = shared
    try:
        yield
    finally:
        del _held[key]
        if fd is not None:
            _release(out_dir / LOCK, fd)


def _acquire(out_dir: Path, shared: bool) -> int | None:
    path = out_dir / LOCK
    deadline = time.monotonic() + WAIT
    while True:
        fd = _open(path, shared)
        if fd is None:
            return None
        try:
            if _try_lock(fd, shared) and _still(path, fd):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        if time.monotonic() >= deadline:
            raise WriteError(
                f"another build is writing {out_dir} (or `build --check`/`diff` is reading it); "
                f"waited {WAIT:.0f} s for {path}: run again when it has finished"
            )
        time.sleep(_POLL)


def _open(path: Path, shared: bool) -> int | None:
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise WriteError(
                f"{path} is a symbolic link, not hacompile's lock file: remove the "
                "link (hacompile does not follow it)"
            ) from None
        if shared and exc.errno in (errno.ENOENT, errno.EACCES, errno.EROFS, errno.EPERM):
            return None  # no directory, or a read-only one: nothing to read-lock
        raise WriteError(f"cannot open the lock file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise WriteError(f"{path} is not a regular file, so not hacompile's lock file: remove it")
    return fd


def _try_lock(fd: int, shared: bool) -> bool:
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still(path: Path, fd: int) -> bool:
    """Whether `path` is still the file `fd` locked (the last holder may have removed it)."""
    try:
        here = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _release(path: Path, fd: int) -> None:
    """Remove the lock file if nobody else holds or waits on it, then drop the lock."""
    try:
        if _try_lock(fd, shared=False) and _still(path, fd):
            with contextlib.suppress(OSError):
                path.unlink()
    finally:
        os.close(fd)
