"""`taskyard completion bash|zsh|fish`: bash completes for real in `bash -c` with the script
sourced; zsh and fish scripts parse where those shells are installed; task ids come from the
thin `taskyard tasks --ids`."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.board import store_task, stored_engine
from tests.support.cli import TASKYARD, run_taskyard

TASK_IDS = ("aaaa0001", "bbbb0002")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TASKYARD_"))}
    return {**clean, "TASKYARD_HOME": str(tmp_path / "home"), "OPENAI_API_KEY": "test-key"}


@pytest.fixture
def bash_script(tmp_path: Path, env: dict[str, str]) -> Path:
    result = run_taskyard("completion", "bash", env=env)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "taskyard.bash"
    path.write_text(result.stdout)
    return path


async def store_tasks(home: Path) -> None:
    engine = stored_engine(home)
    for task_id in TASK_IDS:
        store_task(engine, task_id)
    await engine.close()


def complete(script: Path, line: str, env: dict[str, str]) -> list[str]:
    """What bash completes the last word of `line` to (an empty last word after a space)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    words[0] = TASKYARD
    code = (
        f"source {shlex.quote(str(script))}\n"
        f"COMP_WORDS=({' '.join(shlex.quote(word) for word in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_taskyard\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "-c", code], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return [word for word in result.stdout.splitlines() if word]


def test_bash_completes_subcommands_and_their_actions(
    bash_script: Path, env: dict[str, str]
) -> None:
    commands = complete(bash_script, "taskyard ", env)
    for name in ("run", "tasks", "show", "doctor", "config", "completion", "hosts"):
        assert name in commands
    assert complete(bash_script, "taskyard con", env) == ["config"]
    assert complete(bash_script, "taskyard config ", env) == ["path", "show", "edit"]
    assert complete(bash_script, "taskyard serve s", env) == ["status", "stop"]
    assert complete(bash_script, "taskyard completion ", env) == ["bash", "zsh", "fish"]


def test_bash_completes_flags_and_their_values(bash_script: Path, env: dict[str, str]) -> None:
    assert complete(bash_script, "taskyard --v", env) == ["--version"]
    assert complete(bash_script, "taskyard run --m", env) == ["--mode"]
    assert complete(bash_script, "taskyard run --mode ", env) == ["code", "ask"]
    assert complete(bash_script, "taskyard run --mode ask --j", env) == ["--json"]
    assert set(complete(bash_script, "taskyard tasks --", env)) >= {"--ids", "--all", "--json"}
    assert complete(bash_script, "taskyard hosts check -", env) == ["-h", "--help"]


async def test_bash_completes_task_ids(
    tmp_path: Path, bash_script: Path, env: dict[str, str]
) -> None:
    await store_tasks(tmp_path / "home")
    assert sorted(complete(bash_script, "taskyard show ", env)) == sorted(TASK_IDS)
    assert complete(bash_script, "taskyard apply --squash b", env) == ["bbbb0002"]
    assert complete(bash_script, "taskyard followup a", env) == ["aaaa0001"]
    assert complete(bash_script, "taskyard followup aaaa0001 ", env) == []
    assert complete(bash_script, "taskyard run ", env) == []


def test_task_ids_without_a_store_complete_to_nothing(
    bash_script: Path, env: dict[str, str]
) -> None:
    assert complete(bash_script, "taskyard show ", env) == []


LIST_MODULES = """
import atexit, json, runpy, sys
listed, script = sys.argv[1], sys.argv[2]
atexit.register(lambda: open(listed, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = [script, "tasks", "--ids"]
runpy.run_path(script, run_name="__main__")
"""


async def test_the_ids_come_from_the_thin_path(tmp_path: Path, env: dict[str, str]) -> None:
    await store_tasks(tmp_path / "home")
    listed = tmp_path / "modules.json"
    command = [sys.executable, "-c", LIST_MODULES, str(listed), TASKYARD]
    for _ in ("service started", "service running"):
        ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr
        assert sorted(ran.stdout.split()) == sorted(TASK_IDS)
        modules = json.loads(listed.read_text())
        heavy = {"textual", "openai", "docker", "git", "engine.api"}
        assert [name for name in modules if name.split(".")[0] in heavy or name in heavy] == []
    assert "asyncio" not in modules, "with the service running, the ids come without asyncio"


def scripts(env: dict[str, str], shell: str) -> str:
    result = run_taskyard("completion", shell, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_script_names_every_subcommand(env: dict[str, str]) -> None:
    for shell in ("bash", "zsh", "fish"):
        text = scripts(env, shell)
        for name in ("run", "followup", "doctor", "config", "completion", "--version", "--ids"):
            assert name in text, (shell, name)
        assert "tasks --ids" in text


@pytest.mark.parametrize(("shell", "check"), [("zsh", ["-n"]), ("fish", ["--no-execute"])])
def test_zsh_and_fish_scripts_parse(
    tmp_path: Path, env: dict[str, str], shell: str, check: list[str]
) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"taskyard.{shell}"
    path.write_text(scripts(env, shell))
    parsed = subprocess.run(
        [shell, *check, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert parsed.returncode == 0, parsed.stderr


def test_an_unknown_shell_is_one_line(env: dict[str, str]) -> None:
    result = run_taskyard("completion", "powershell", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "invalid choice: 'powershell'" in result.stderr
