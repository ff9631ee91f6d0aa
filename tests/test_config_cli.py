"""`taskyard config path|show|edit` as a person runs them, the editor a script."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from engine.config import parse_config
from tests.support.cli import TASKYARD, run_taskyard

CONFIG = """\
model = "from-file"

[model_client]
base_url = "http://me:hunter22@gpu-box:8000/v1"
api_key = "env:GPU_BOX_KEY"

[environments.web]
setup = \"\"\"
npm ci
echo "ready \\\\ set"
\"\"\"
env = { NODE_ENV = "test" }
secrets = { NPM_TOKEN = "env:NPM_TOKEN", PYPI = "pypi-literal-value" }

[hosts."build box"]
ssh = "me@build-box:2222"
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TASKYARD_"))}
    clean = {k: v for k, v in clean.items() if k not in ("VISUAL", "EDITOR")}
    return {**clean, "TASKYARD_HOME": str(tmp_path / "home")}


def config_file(env: dict[str, str]) -> Path:
    return Path(env["TASKYARD_HOME"]) / "config" / "config.toml"


def write_config(env: dict[str, str], text: str) -> Path:
    path = config_file(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def editor(tmp_path: Path, script: str, name: str = "editor.sh") -> str:
    """An editor: a shell script run with the file as $1."""
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


def edit(env: dict[str, str], answers: str | None = None) -> subprocess.CompletedProcess[str]:
    """`taskyard config edit`, `answers` on its stdin (none: stdin at its end)."""
    return subprocess.run(
        [TASKYARD, "config", "edit"],
        input=answers or "",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_path_is_under_taskyard_home(env: dict[str, str]) -> None:
    result = run_taskyard("config", "path", env=env)
    assert result.returncode == 0
    assert result.stdout == f"{config_file(env)}\n"


def test_show_without_a_file_prints_the_defaults(env: dict[str, str]) -> None:
    result = run_taskyard("config", "show", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"# {config_file(env)} (does not exist: every setting is")
    assert 'model = "gpt-5-codex"' in result.stdout
    assert "# base_url: not set, so https://api.openai.com/v1" in result.stdout
    assert "# api_key: not set, so OPENAI_API_KEY (not set either)" in result.stdout
    assert parse_config(result.stdout, Path("shown.toml")) == parse_config("", Path("x"))


def test_show_hides_secrets_and_passwords_and_says_where_values_come_from(
    env: dict[str, str],
) -> None:
    write_config(env, CONFIG)
    env.update(TASKYARD_MODEL="from-variable", NPM_TOKEN="npm-value-never-shown")
    result = run_taskyard("config", "show", env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "pypi-literal-value" not in out and "hunter22" not in out and "npm-value" not in out
    assert 'PYPI = "(hidden)"' in out and 'NPM_TOKEN = "env:NPM_TOKEN"' in out
    assert 'base_url = "http://me:(hidden)@gpu-box:8000/v1"' in out
    assert 'api_key = "env:GPU_BOX_KEY"' in out
    assert 'model = "from-variable"  # from TASKYARD_MODEL' in out
    shown = tomllib.loads(out)
    assert shown["environments"]["web"]["setup"] == 'npm ci\necho "ready \\ set"\n'
    assert shown["hosts"]["build box"]["ssh"] == "me@build-box:2222"


def test_show_round_trips(env: dict[str, str]) -> None:
    text = CONFIG.replace('PYPI = "pypi-literal-value"', 'PYPI = "file:~/.pypi-token"')
    text = text.replace("me:hunter22@", "")
    write_config(env, text)
    result = run_taskyard("config", "show", env=env)
    assert parse_config(result.stdout, Path("shown")) == parse_config(text, Path("written"))


def test_show_of_a_broken_config_is_one_line(env: dict[str, str]) -> None:
    path = write_config(env, '[model_client]\napi_key = "sk-live-key"\n')
    result = run_taskyard("config", "show", env=env)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"taskyard: {path}: key `model_client.api_key`")
    assert '"env:NAME", "file:PATH" or "cmd:COMMAND"' in result.stderr
    assert "sk-live-key" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_no_action_says_which_are_there(env: dict[str, str]) -> None:
    result = run_taskyard("config", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "{path,show,edit}" in result.stderr or "ACTION" in result.stderr


def test_edit_creates_the_file_and_checks_it(env: dict[str, str], tmp_path: Path) -> None:
    env["EDITOR"] = editor(tmp_path, "printf '[agent]\\nmax_turns = 7\\n' >> \"$1\"")
    result = edit(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{config_file(env)} is valid\n"
    text = config_file(env).read_text()
    assert text.startswith("# taskyard's config.") and text.endswith("max_turns = 7\n")


def test_visual_comes_before_editor(env: dict[str, str], tmp_path: Path) -> None:
    env["VISUAL"] = editor(tmp_path, 'echo \'theme = "visual"\' >> "$1"', "visual.sh")
    env["EDITOR"] = editor(tmp_path, 'echo \'theme = "editor"\' >> "$1"')
    assert edit(env).returncode == 0
    assert 'theme = "visual"' in config_file(env).read_text()


def test_an_error_offers_another_edit(env: dict[str, str], tmp_path: Path) -> None:
    write_config(env, "")
    fix_or_break = (
        'if grep -q lots "$1"; then sed -i \'s/"lots"/"2g"/\' "$1"; '
        'else printf \'[sandbox]\\nmemory = "lots"\\n\' >> "$1"; fi'
    )
    env["EDITOR"] = editor(tmp_path, fix_or_break)
    result = edit(env, answers="\n")
    assert result.returncode == 0, result.stderr
    assert 'key `sandbox.memory`: memory = "lots" is not a size' in result.stderr
    assert "edit it again? [Y/n]" in result.stderr
    assert config_file(env).read_text() == '[sandbox]\nmemory = "2g"\n'


@pytest.mark.parametrize("answers", ["n\n", None])
def test_a_declined_or_unanswered_retry_keeps_the_edit(
    env: dict[str, str], tmp_path: Path, answers: str | None
) -> None:
    write_config(env, 'model = "kept"\n')
    env["EDITOR"] = editor(tmp_path, 'printf \'wire_api = "grpc"\\n\' >> "$1"')
    result = edit(env, answers)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "key `wire_api`" in result.stderr
    assert f"kept {config_file(env)} as you wrote it" in result.stderr
    assert config_file(env).read_text() == 'model = "kept"\nwire_api = "grpc"\n'


def test_an_editor_that_fails_or_is_missing(env: dict[str, str], tmp_path: Path) -> None:
    env["EDITOR"] = editor(tmp_path, "exit 3")
    result = edit(env)
    assert result.returncode == 1
    assert result.stderr.startswith("taskyard: the editor ") and "exited with status 3" in (
        result.stderr
    )
    env["EDITOR"] = str(tmp_path / "no-such-editor")
    result = edit(env)
    assert result.returncode == 1 and "cannot start the editor" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_edit_tells_a_running_service_keeps_its_config(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["OPENAI_API_KEY"] = "k"
    assert run_taskyard("tasks", env=env).returncode == 0
    env["EDITOR"] = editor(tmp_path, 'echo \'theme = "changed"\' >> "$1"')
    result = edit(env)
    assert result.returncode == 0
    assert "the running taskyard service keeps the config it started with" in result.stdout
