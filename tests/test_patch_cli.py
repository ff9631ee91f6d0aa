"""`taskyard apply-patch` run as a real process: stdin in, summary or one-line error out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUN_COMMAND = (
    "import argparse, sys\n"
    "from tui.commands.apply_patch import register\n"
    "parser = argparse.ArgumentParser(prog='taskyard')\n"
    "register(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.handler(args))\n"
)


def run_apply_patch(cwd: Path, stdin: bytes, *argv: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", RUN_COMMAND, "apply-patch", *argv],
        input=stdin,
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_good_patch_is_applied_and_summarised(tmp_path: Path) -> None:
    (tmp_path / "modify.txt").write_text("line1\nline2\n")
    patch = (
        "*** Begin Patch\n*** Add File: nested/new.txt\n+created\n"
        "*** Update File: modify.txt\n@@\n-line2\n+changed\n*** End Patch\n"
    )

    completed = run_apply_patch(tmp_path, patch.encode())

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.decode() == (
        "Success. Updated the following files:\nA nested/new.txt\nM modify.txt\n"
    )
    assert completed.stderr == b""
    assert (tmp_path / "modify.txt").read_text() == "line1\nchanged\n"
    assert (tmp_path / "nested" / "new.txt").read_text() == "created\n"


def test_bad_patch_exits_1_with_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "modify.txt").write_text("line1\nline2\n")
    patch = "*** Begin Patch\n*** Update File: modify.txt\n@@\n-missing\n+x\n*** End Patch\n"

    completed = run_apply_patch(tmp_path, patch.encode())

    assert completed.returncode == 1
    assert completed.stdout == b""
    assert completed.stderr.decode() == (
        "taskyard apply-patch: Failed to find expected lines in modify.txt:\nmissing\n"
    )
    assert (tmp_path / "modify.txt").read_text() == "line1\nline2\n"


def test_malformed_patch_reports_the_parse_error(tmp_path: Path) -> None:
    completed = run_apply_patch(tmp_path, b"*** Begin Patch\n*** Frobnicate File: foo\n")

    assert completed.returncode == 1
    assert completed.stderr.decode() == (
        "taskyard apply-patch: invalid patch: The last line of the patch must be '*** End Patch'\n"
    )


def test_non_utf8_stdin_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    completed = run_apply_patch(tmp_path, b"*** Begin Patch\n\xff\xfe\n*** End Patch\n")

    assert completed.returncode == 1
    stderr = completed.stderr.decode()
    assert stderr.startswith("taskyard apply-patch: the patch on stdin is not valid UTF-8")
    assert "Traceback" not in stderr


def test_empty_stdin_is_reported(tmp_path: Path) -> None:
    completed = run_apply_patch(tmp_path, b"")

    assert completed.returncode == 1
    assert completed.stderr.decode().startswith("taskyard apply-patch: no patch on stdin")


def test_help_describes_the_command(tmp_path: Path) -> None:
    completed = run_apply_patch(tmp_path, b"", "--help")

    assert completed.returncode == 0
    assert b"*** Begin Patch" in completed.stdout
