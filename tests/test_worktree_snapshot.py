"""Putting working tree paths back exactly after a write that failed midway."""

from __future__ import annotations

import os
from pathlib import Path

from engine.accept.worktree_snapshot import WorktreeSnapshot


def test_files_links_and_new_directories_are_put_back(tmp_path: Path) -> None:
    (tmp_path / "script.sh").write_bytes(b"#!/bin/sh\r\necho mine\n")
    (tmp_path / "script.sh").chmod(0o750)
    os.symlink("script.sh", tmp_path / "link")
    (tmp_path / "gone.txt").write_text("still here\n")
    paths = ["script.sh", "link", "gone.txt", "new/deep/file.txt"]
    snapshot = WorktreeSnapshot.take(tmp_path, paths)

    (tmp_path / "script.sh").write_text("overwritten\n")
    (tmp_path / "script.sh").chmod(0o644)
    (tmp_path / "link").unlink()
    (tmp_path / "link").write_text("a file now\n")
    (tmp_path / "gone.txt").unlink()
    (tmp_path / "new" / "deep").mkdir(parents=True)
    (tmp_path / "new" / "deep" / "file.txt").write_text("half written")
    snapshot.restore()

    assert (tmp_path / "script.sh").read_bytes() == b"#!/bin/sh\r\necho mine\n"
    assert (tmp_path / "script.sh").stat().st_mode & 0o777 == 0o750
    assert os.readlink(tmp_path / "link") == "script.sh"
    assert (tmp_path / "gone.txt").read_text() == "still here\n"
    assert not (tmp_path / "new").exists()
