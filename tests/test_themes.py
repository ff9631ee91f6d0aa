"""Theme files: bundled and user themes register in an App; a bad file is one message."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App

from tui.themes import (
    bundled_themes_dir,
    load_theme_files,
    register_themes,
    user_themes_dir,
)

GOOD_THEME = """\
name = "{name}"
dark = true
primary = "#5fa8d3"
secondary = "#7a8ca5"
accent = "#e0b354"
foreground = "#d8dee9"
background = "#14171c"
surface = "#1b2027"
panel = "#252b34"
success = "#6bbf7a"
warning = "#e0b354"
error = "#e06c75"
"""

BAD_THEMES = {
    "not-toml.toml": ("name = [unclosed", "not valid TOML"),
    "missing-key.toml": (GOOD_THEME.replace('primary = "#5fa8d3"\n', ""), "missing key `primary`"),
    "bad-colour.toml": (GOOD_THEME.replace('"#e06c75"', '"reddish"'), "'reddish' is not a colour"),
    "unknown-key.toml": (GOOD_THEME + 'primry = "#fff"\n', "`primry` is not a theme key"),
    "bad-dark.toml": (GOOD_THEME.replace("dark = true", "dark = 1"), "key `dark`"),
    "bad-variable.toml": (
        GOOD_THEME + '[variables]\nborder = "#fff; background: red"\n',
        "variable 'border'",
    ),
    "bad-text-style.toml": (
        GOOD_THEME + '[variables]\nblock-cursor-text-style = "wobbly"\n',
        "is not a text style",
    ),
}


class ThemedApp(App[None]):
    """An app that registers taskyard's themes when it starts."""

    def __init__(self, config_dir: Path) -> None:
        super().__init__()
        self.theme_problems = register_themes(self, config_dir)


def write_user_theme(config_dir: Path, file_name: str, text: str) -> Path:
    path = user_themes_dir(config_dir) / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_themes_load_without_problems() -> None:
    themes, problems = load_theme_files(bundled_themes_dir())
    assert problems == []
    assert {theme.name for theme in themes} >= {"taskyard-dark", "taskyard-light"}
    assert {theme.dark for theme in themes} == {True, False}


async def test_bundled_themes_register_beside_textuals_own(tmp_path: Path) -> None:
    app = ThemedApp(tmp_path)
    assert app.theme_problems == []
    async with app.run_test() as pilot:
        for name in ("textual-dark", "taskyard-light", "taskyard-dark"):
            app.theme = name
            await pilot.pause()
            assert app.current_theme.name == name
        assert app.get_css_variables()["primary"].lower() == "#5fa8d3"


@pytest.mark.parametrize("file_name", sorted(BAD_THEMES))
def test_a_bad_theme_file_is_one_message_naming_it(tmp_path: Path, file_name: str) -> None:
    text, problem = BAD_THEMES[file_name]
    (tmp_path / file_name).write_text(text, encoding="utf-8")
    (tmp_path / "good.toml").write_text(GOOD_THEME.format(name="good"), encoding="utf-8")
    themes, problems = load_theme_files(tmp_path)
    assert [theme.name for theme in themes] == ["good"]
    assert len(problems) == 1
    assert file_name in problems[0] and problem in problems[0]


def test_an_unreadable_theme_file_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00name")
    themes, problems = load_theme_files(tmp_path)
    assert themes == [] and len(problems) == 1 and "binary.toml" in problems[0]


def test_two_files_with_one_name_keep_the_first(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD_THEME.format(name="same"), encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD_THEME.format(name="same"), encoding="utf-8")
    themes, problems = load_theme_files(tmp_path)
    assert len(themes) == 1
    assert problems == [
        f"theme file {tmp_path / 'b.toml'}: the name 'same' is already used by a.toml"
    ]


def test_a_missing_directory_has_no_themes(tmp_path: Path) -> None:
    assert load_theme_files(tmp_path / "absent") == ([], [])


async def test_a_user_theme_registers_and_applies(tmp_path: Path) -> None:
    text = GOOD_THEME.format(name="ocean") + '[variables]\nfooter-key-foreground = "#00aaff"\n'
    write_user_theme(tmp_path, "ocean.toml", text)
    app = ThemedApp(tmp_path)
    assert app.theme_problems == []
    assert {"ocean", "taskyard-dark", "textual-light"} <= set(app.available_themes)
    async with app.run_test() as pilot:
        app.theme = "ocean"
        await pilot.pause()
        assert app.get_css_variables()["footer-key-foreground"] == "#00aaff"


async def test_bad_user_files_are_reported_and_the_app_still_runs(tmp_path: Path) -> None:
    for file_name, (text, _) in BAD_THEMES.items():
        write_user_theme(tmp_path, file_name, text)
    app = ThemedApp(tmp_path)
    assert len(app.theme_problems) == len(BAD_THEMES)
    async with app.run_test() as pilot:
        app.theme = "taskyard-light"
        await pilot.pause()
        assert app.current_theme.name == "taskyard-light"
