"""Theme files (TOML) validated into Textual themes: the bundled ones and the user's own."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError
from textual.app import App
from textual.color import Color, ColorParseError
from textual.css.errors import DeclarationError, StyleValueError
from textual.css.parse import parse_declarations
from textual.css.tokenizer import TokenError
from textual.theme import Theme

VARIABLE_NAME = re.compile(r"[a-z][a-z0-9-]*")
BUNDLED_THEMES_PACKAGE = "themes"
"""The package of the bundled theme files: the repository's top-level `themes/` folder."""


class ThemeFileError(Exception):
    """A theme file that cannot be used; the message names the file and what is wrong."""


def bundled_themes_dir() -> Traversable:
    """The themes shipped with taskyard: package data of the top-level `themes` package, read
    through importlib.resources, so a source checkout and an installed wheel read them alike."""
    return files(BUNDLED_THEMES_PACKAGE)


def user_themes_dir(config_dir: Path) -> Path:
    """Where users add their own theme files: `themes/` in the config dir."""
    return config_dir / "themes"


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError:
        raise PydanticCustomError(
            "not_a_colour",
            "{value} is not a colour (use #rrggbb, rgb(r, g, b) or a colour name)",
            {"value": repr(value)},
        ) from None
    return value


def _variables(variables: dict[str, str]) -> dict[str, str]:
    for name, value in variables.items():
        _check_variable(name, value)
    return variables


def _check_variable(name: str, value: str) -> None:
    """Names ending in `style` take a text style (`bold`, `none`); all others take a colour."""
    if not VARIABLE_NAME.fullmatch(name):
        raise PydanticCustomError(
            "bad_variable_name", "{name} is not a variable name", {"name": repr(name)}
        )
    rule, kind = ("text-style", "text style") if name.endswith("style") else ("color", "colour")
    if not _is_single_css_value(rule, value):
        raise PydanticCustomError(
            "bad_variable",
            "variable {name}: {value} is not a {kind}",
            {"name": repr(name), "value": repr(value), "kind": kind},
        )


def _is_single_css_value(rule: str, value: str) -> bool:
    if any(character in value for character in ";{}$"):
        return False
    try:
        parse_declarations(f"{rule}: {value};", ("theme", rule))
    except (DeclarationError, TokenError, StyleValueError):
        return False
    return True


Colour = Annotated[str, AfterValidator(_colour)]


class ThemeFile(BaseModel):
    """One theme file: the colours Textual derives its whole palette from."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = Field(min_length=1)
    """The theme's name: `theme` in the config and the palette's theme switcher use it."""
    dark: bool = Field(strict=True)
    """Whether this is a dark theme (Textual derives shades and text contrast from it)."""
    primary: Colour
    """The main colour: focus, borders, the block cursor."""
    secondary: Colour
    """A second colour for less prominent highlights."""
    accent: Colour
    """A colour that draws attention, such as key hints in the footer."""
    foreground: Colour
    """Text colour."""
    background: Colour
    """The screen's background."""
    surface: Colour
    """The background of widgets such as logs and tables."""
    panel: Colour
    """The background of panels, tabs and the footer."""
    success: Colour
    """Passed tests, accepted changes."""
    warning: Colour
    """Things that need a look."""
    error: Colour
    """Failures."""
    variables: Annotated[dict[str, str], AfterValidator(_variables)] = Field(default_factory=dict)
    """Overrides of Textual's theme variables, such as `footer-key-foreground`."""

    def to_theme(self) -> Theme:
        """The Textual theme this file describes."""
        return Theme(**self.model_dump())


def _key(error: ErrorDetails) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(top level)"


def _describe_problem(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return f"`{_key(error)}` is not a theme key"
    return f"key `{_key(error)}`: {error['msg']}"


def _describe(error: ValidationError) -> str:
    problems = error.errors()
    messages = [_describe_problem(problem) for problem in problems if problem["type"] != "missing"]
    missing = [f"`{_key(problem)}`" for problem in problems if problem["type"] == "missing"]
    if missing:
        messages.append(f"missing key{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    return "; ".join(messages)


def load_theme_file(path: Traversable) -> Theme:
    """Read and validate one theme file; ThemeFileError says what is wrong with it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        theme = ThemeFile.model_validate(data).to_theme()
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeFileError(f"theme file {path}: cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ThemeFileError(f"theme file {path}: not valid TOML: {error}") from None
    except ValidationError as error:
        raise ThemeFileError(f"theme file {path}: {_describe(error)}") from None
    return theme


def _theme_paths(directory: Traversable) -> list[Traversable]:
    if not directory.is_dir():
        return []
    paths = [path for path in directory.iterdir() if path.name.endswith(".toml")]
    return sorted(paths, key=lambda path: path.name)


def load_theme_files(directory: Traversable) -> tuple[list[Theme], list[str]]:
    """The themes in directory's *.toml files, and one message per file that cannot be used."""
    themes: list[Theme] = []
    sources: dict[str, Traversable] = {}
    problems: list[str] = []
    for path in _theme_paths(directory):
        try:
            theme = load_theme_file(path)
        except ThemeFileError as error:
            problems.append(str(error))
            continue
        if theme.name in sources:
            problems.append(
                f"theme file {path}: the name {theme.name!r} is already used by "
                f"{sources[theme.name].name}"
            )
            continue
        themes.append(theme)
        sources[theme.name] = path
    return themes, problems


def register_themes(app: App[Any], config_dir: Path) -> list[str]:
    """Register the bundled themes, then the user's (which may replace them by name).

    Returns one message per theme file that could not be used, for the app to show.
    """
    problems: list[str] = []
    for directory in (bundled_themes_dir(), user_themes_dir(config_dir)):
        themes, directory_problems = load_theme_files(directory)
        for theme in themes:
            app.register_theme(theme)
        problems.extend(directory_problems)
    return problems
