"""`taskyard config path|show|edit`: where the config file is, what it amounts to, and editing
it with a check before anything runs with it.

These read and write the file on this machine and never ask the service: the file is this
shell's (TASKYARD_HOME decides which), and `edit` must work exactly when the config is broken
and the service cannot start. The service reads the file when it starts; after a change,
`taskyard serve stop` lets the next command start one that reads it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from engine.paths import default_paths
from tui.commands.common import fail

if TYPE_CHECKING:
    from engine.config import Config

DEFAULT_BASE_URL = "https://api.openai.com/v1"
OVERRIDES = {("model",): "TASKYARD_MODEL", ("wire_api",): "TASKYARD_WIRE_API"}
"""Settings a variable overrides, as `show` names them."""
NEW_FILE = """\
# taskyard's config. Every key is optional; `taskyard config show` prints every setting with
# its value, and taskyard's README describes each table.

# model = "gpt-5-codex"

# [model_client]
# base_url = "http://localhost:11434/v1"   # an OpenAI-compatible server: Ollama, vLLM, a proxy
# api_key = "env:OPENAI_API_KEY"           # or "file:PATH", "cmd:COMMAND"; never the key itself
"""
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config",
        help="the config file: its path, the effective settings, or edit it",
        description="The config file (TASKYARD_HOME/config/config.toml when TASKYARD_HOME is "
        "set). `show` prints every setting as taskyard uses it, secrets hidden; `edit` opens "
        "the file in $VISUAL or $EDITOR (else vi) and checks it when you close it.",
    )
    actions = parser.add_subparsers(metavar="ACTION", required=True)
    path = actions.add_parser("path", help="print the config file's path")
    path.set_defaults(handler=main_path)
    show = actions.add_parser("show", help="print the effective config, secrets hidden")
    show.set_defaults(handler=main_show)
    edit = actions.add_parser("edit", help="edit the config file, then check it")
    edit.set_defaults(handler=main_edit)


def main_path(args: argparse.Namespace) -> int:
    print(default_paths().config_file)
    return 0


def main_show(args: argparse.Namespace) -> int:
    from engine.config import ConfigError, load_config

    paths = default_paths()
    try:
        config = load_config(paths)
    except ConfigError as error:
        return fail(f"{error}: `taskyard config edit` to fix it", code=1)
    state = "" if paths.config_file.exists() else " (does not exist: every setting is a default)"
    print(f"# {paths.config_file}{state}")
    print("# the effective config: defaults filled in, variables applied, secrets hidden")
    print("\n".join(toml_lines(shown(config), (), notes(config))).strip("\n"))
    return 0


def shown(config: Config) -> dict[str, Any]:
    """The config as plain data, with what must not be printed hidden."""
    data = config.model_dump(mode="json")
    for name, environment in config.environments.items():
        data["environments"][name]["secrets"] = environment.shown_secrets()
    client = data["model_client"]
    if client["base_url"] is not None:
        client["base_url"] = without_password(client["base_url"])
    if data["forge"]["api_url"] is not None:
        data["forge"]["api_url"] = without_password(data["forge"]["api_url"])
    return data


def without_password(url: str) -> str:
    """The URL with any password in it hidden."""
    from engine.config import HIDDEN

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{HIDDEN}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def notes(config: Config) -> dict[tuple[str, ...], str]:
    """A comment for each setting whose value comes from elsewhere than the file."""
    found = {key: f"from {name}" for key, name in OVERRIDES.items() if os.environ.get(name)}
    if config.model_client.base_url is None:
        variable = os.environ.get("OPENAI_BASE_URL")
        used = f"OPENAI_BASE_URL ({without_password(variable)})" if variable else DEFAULT_BASE_URL
        found[("model_client", "base_url")] = f"not set, so {used}"
    if config.model_client.api_key is None:
        state = "set" if os.environ.get("OPENAI_API_KEY") else "not set either"
        found[("model_client", "api_key")] = f"not set, so OPENAI_API_KEY ({state})"
    return found


def toml_lines(
    data: dict[str, Any], table: tuple[str, ...], comments: dict[tuple[str, ...], str]
) -> list[str]:
    """`data` as TOML: this table's values, then each sub-table; unset values as comments."""
    values = {key: value for key, value in data.items() if not isinstance(value, dict)}
    lines = ["", f"[{'.'.join(key_text(part) for part in table)}]"] if table and values else []
    for key, value in values.items():
        comment = comments.get((*table, key))
        if value is None:
            lines.append(f"# {key_text(key)}: {comment or 'not set'}")
        else:
            suffix = f"  # {comment}" if comment else ""
            lines.append(f"{key_text(key)} = {value_text(value)}{suffix}")
    for key, value in data.items():
        if isinstance(value, dict):
            lines += toml_lines(value, (*table, key), comments)
    return lines


def key_text(key: str) -> str:
    return key if BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def value_text(value: Any) -> str:
    """A TOML value: a multi-line string keeps its lines; JSON's quoting suits the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and "\n" in value and value.replace("\n", "").isprintable():
        quoted = value.replace("\\", "\\\\").replace('"""', '""\\"')
        return f'"""\n{quoted}"""'
    return json.dumps(value, ensure_ascii=False)


def main_edit(args: argparse.Namespace) -> int:
    from tui.editor import EditorError, run_editor

    path = default_paths().config_file
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(NEW_FILE, encoding="utf-8")
        before = path.read_bytes()
    except OSError as error:
        return fail(f"cannot open {path} for editing: {error.strerror}", code=1)
    while True:
        try:
            run_editor(path)
        except EditorError as error:
            return fail(f"{error}: {path} was not checked", code=1)
        problem = config_problem(path)
        if problem is None:
            print(f"{path} is valid")
            if path.read_bytes() != before and service_runs():
                print(
                    "the running taskyard service keeps the config it started with: "
                    "`taskyard serve stop` (its tasks go on) and the next command reads this one"
                )
            return 0
        print(f"taskyard: {problem}", file=sys.stderr)
        if not ask("edit it again? [Y/n] "):
            return fail(
                f"kept {path} as you wrote it; taskyard refuses to start until it is fixed",
                code=1,
            )


def service_runs() -> bool:
    """Whether a service answers for this state dir (none is started to find out)."""
    from engine.errors import EngineError
    from engine.service.oneshot import NotRunning, call_once

    try:
        call_once(default_paths(), "status")
    except NotRunning:
        return False
    except EngineError:
        return True
    return True


def config_problem(path: Path) -> str | None:
    """What is wrong with the file, or None when taskyard can use it."""
    from engine.config import ConfigError, parse_config

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return f"{path}: cannot be read: {error}"
    try:
        parse_config(text, path)
    except ConfigError as error:
        return str(error)
    return None


def ask(question: str) -> bool:
    """Yes unless the answer starts with n; no when there is nobody to answer (end of input)."""
    print(question, end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print(file=sys.stderr)
        return False
    return not answer.strip().lower().startswith("n")
