"""The writer's durability order with one syncfs instead of an fsync per file: staged data is
flushed before the first rename, renames before the journal (the commit point) goes, and
without syncfs every staged file is fsynced instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hacompile import write as writer
from hacompile.write import JOURNAL, NEW
from tests.workflow.conftest import BLOG, THREE, bundle_of, snapshot


def record(monkeypatch: pytest.MonkeyPatch, syncfs: bool) -> list[str]:
    """Events in order: sync, rename (a staged file into place), fsync, commit."""
    events: list[str] = []
    real_replace, real_unlink, real_fsync = os.replace, Path.unlink, os.fsync
    real_syncfs = writer._syncfs

    def fake_syncfs(path: Path) -> bool:
        events.append("sync")
        return real_syncfs(path) if syncfs else False

    def replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if str(src).endswith(NEW) and not str(dst).endswith(JOURNAL):
            events.append("rename")
        real_replace(src, dst)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self.name == JOURNAL:
            events.append("commit")
        real_unlink(self, missing_ok=missing_ok)

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    monkeypatch.setattr(writer, "_syncfs", fake_syncfs)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(Path, "unlink", unlink)
    monkeypatch.setattr(os, "fsync", fsync)
    return events


@pytest.mark.parametrize("syncfs", [True, False])
def test_data_is_flushed_before_renames_and_renames_before_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syncfs: bool
) -> None:
    bundle = bundle_of(BLOG)
    events = record(monkeypatch, syncfs)
    writer.write(bundle, tmp_path)
    monkeypatch.undo()
    renames = [i for i, e in enumerate(events) if e == "rename"]
    syncs = [i for i, e in enumerate(events) if e == "sync"]
    assert len(renames) == len(bundle.files)
    assert events.count("commit") == 1
    assert len(syncs) == 2
    assert syncs[0] < renames[0] and renames[-1] < syncs[1] < events.index("commit")
    fsyncs = [i for i, e in enumerate(events) if e == "fsync"]
    if syncfs:  # only the journal and its directory: no fsync per file
        assert all(i < syncs[0] for i in fsyncs) and len(fsyncs) == 2
    else:  # every staged file and the directory, between staging and the first rename
        between = [i for i in fsyncs if syncs[0] < i < renames[0]]
        assert len(between) == len(bundle.files) + 1
    fresh = tmp_path.parent / "fresh"
    writer.write(bundle_of(BLOG), fresh)
    assert snapshot(tmp_path) == snapshot(fresh)


def test_rewrite_over_an_old_bundle_without_syncfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer.write(bundle_of(BLOG), tmp_path)
    monkeypatch.setattr(writer, "_syncfs", lambda path: False)
    spec = tmp_path.parent / "three.yaml"
    spec.write_text(THREE.read_text())
    writer.write(bundle_of(spec), tmp_path, force=True)
    monkeypatch.undo()
    fresh = tmp_path.parent / "fresh"
    writer.write(bundle_of(spec), fresh)
    assert snapshot(tmp_path) == snapshot(fresh)
