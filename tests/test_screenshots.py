"""The README's screenshots: the script makes the four SVGs of the real board at 120x36, and the
README shows the committed ones."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.screenshots import OUT, SHOTS, SIZE

REPO = Path(__file__).resolve().parents[1]
SEEN = {
    "board": "Fix&#160;the&#160;rounding",
    "stream": "test_json_flag_prints_a_list&#160;FAILED",
    "result": "all&#160;4&#160;verified",
    "accept": "Accept&#160;task&#160;3f9c2a71",
}
"""A piece of each screenshot's text (as the SVG spells it) that shows it is the right screen."""


def test_the_script_makes_the_four_screenshots(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "tests.support.screenshots", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    names = ["board", "stream", "result", "accept"]
    assert list(SHOTS) == names
    assert made.stdout.splitlines() == [str(tmp_path / f"{name}.svg") for name in names]
    for name in names:
        svg = (tmp_path / f"{name}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg") and "Traceback" not in svg
        rows = [int(row) for row in re.findall(r"-line-(\d+)\)", svg)]
        assert max(rows) == SIZE[1] - 1, f"{name}.svg is not {SIZE[1]} rows high (footer last)"
        assert "Quit" in svg
        assert SEEN[name] in svg, f"{name}.svg does not show its screen"


def test_the_readme_shows_the_committed_screenshots() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in SHOTS:
        path = OUT / f"{name}.svg"
        assert path.is_file(), f"{path} is missing: run python -m tests.support.screenshots"
        assert f"]({path.relative_to(REPO)})" in readme
