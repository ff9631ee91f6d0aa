"""The plain commands through the service: `serve`, `run --detach`, `logs`, `cancel`, `retry`,
`archive`, Ctrl-C on `run`, and a `tasks` that loads no model client, Docker or UI code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from engine.views.task import TaskStatus
from tests.support.agent_script import TEST_COMMAND, fix_script, shell
from tests.support.board import store_command, store_task, stored_engine
from tests.support.cli import TASKYARD, model_env, run_taskyard
from tests.support.model_server import Reply, ScriptedModelServer
from tests.support.repos import make_calc_repo
from tui.commands.logs import overlap

SLEEP = ["sleep", "120"]


def home_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TASKYARD_HOME": str(tmp_path / "home")}


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a command that succeeded."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr == f"taskyard: {message}\n"


def wait_for(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


LIST_MODULES = """
import atexit, json, runpy, sys
listed, script = sys.argv[1], sys.argv[2]
atexit.register(lambda: open(listed, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = [script, "tasks"]
runpy.run_path(script, run_name="__main__")
"""
"""Run the console script as `taskyard tasks`; write the modules it loaded to a file."""


def test_tasks_imports_no_model_client_docker_or_ui(tmp_path: Path) -> None:
    listed = tmp_path / "modules.json"
    command = [sys.executable, "-c", LIST_MODULES, str(listed), TASKYARD]
    ran = subprocess.run(
        command, env=home_env(tmp_path), capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0 and ran.stdout.startswith("no tasks yet"), ran.stderr
    modules = json.loads(listed.read_text())
    assert "tui.commands.tasks" in modules and "engine.service.client" in modules
    heavy = {"textual", "openai", "docker", "engine.api"}
    assert sorted(name for name in modules if name.split(".")[0] in heavy or name in heavy) == []
    warm = subprocess.run(
        command, env=home_env(tmp_path), capture_output=True, text=True, timeout=120, check=False
    )
    assert warm.returncode == 0 and warm.stdout.startswith("no tasks yet"), warm.stderr
    modules = json.loads(listed.read_text())
    assert "engine.service.oneshot" in modules
    assert [name for name in ("asyncio", "engine.service.client") if name in modules] == [], (
        "with the service running, tasks asks it without asyncio"
    )


def test_serve_status_and_stop(tmp_path: Path) -> None:
    env = home_env(tmp_path)
    serving = subprocess.Popen(
        [TASKYARD, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: run_taskyard("serve", "status", env=env).returncode == 0, timeout=60)
        status = json.loads(ok(run_taskyard("serve", "status", "--json", env=env)))
        assert status["pid"] == serving.pid and status["active_tasks"] == []
        assert status["socket"].endswith("service.sock") and status["version"] >= 1
        shown = ok(run_taskyard("serve", "status", env=env)).splitlines()
        assert shown[0] == f"pid      {serving.pid}"
        assert "tasks    0 running: none" in shown and "clients  1 (this one included)" in shown

        refused(
            run_taskyard("serve", env=env),
            3,
            "a taskyard service is already running for this state dir",
        )
        ok(run_taskyard("tasks", env=env))
        assert json.loads(ok(run_taskyard("serve", "status", "--json", env=env)))["pid"] == (
            serving.pid
        )

        stopped = ok(run_taskyard("serve", "stop", env=env))
        assert stopped.startswith(f"stopped the taskyard service (pid {serving.pid})")
        assert serving.wait(timeout=30) == 0
    finally:
        serving.kill()
        serving.communicate()
    state = tmp_path / "home" / "state"
    refused(
        run_taskyard("serve", "status", env=env), 1, f"no taskyard service is running for {state}"
    )
    assert ok(run_taskyard("serve", "stop", env=env)) == (
        f"no taskyard service is running for {state}\n"
    )


def test_the_first_command_starts_the_service_in_the_background(tmp_path: Path) -> None:
    env = home_env(tmp_path)
    assert ok(run_taskyard("tasks", env=env)).startswith("no tasks yet")
    status = json.loads(ok(run_taskyard("serve", "status", "--json", env=env)))
    assert status["clients"] == 1 and Path(status["log"]).exists()
    ok(run_taskyard("serve", "stop", env=env))


def test_a_service_that_cannot_start_is_one_line_each_time(tmp_path: Path) -> None:
    env = home_env(tmp_path)
    config = tmp_path / "home" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("sandbox = 3\n")
    for _ in range(2):
        listed = run_taskyard("tasks", env=env)
        assert listed.returncode == 2 and listed.stdout == ""
        assert listed.stderr.startswith(f"taskyard: {config}: key `sandbox`")
        assert listed.stderr.count("\n") == 1, listed.stderr


async def test_archive_undo_cancel_and_retry_say_what_is_wrong_in_one_line(
    tmp_path: Path,
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "aaaa0001")
    store_task(engine, "bbbb0002", status="failed", error="image not found")
    await engine.close()
    env = home_env(tmp_path)

    def listed(*flags: str) -> list[str]:
        return [
            task["id"] for task in json.loads(ok(run_taskyard("tasks", "--json", *flags, env=env)))
        ]

    assert ok(run_taskyard("archive", "aaaa", env=env)) == "archived task aaaa0001\n"
    assert listed() == ["bbbb0002"] and sorted(listed("--all")) == ["aaaa0001", "bbbb0002"]
    undone = ok(run_taskyard("archive", "aaaa0001", "--undo", env=env))
    assert undone == "task aaaa0001 is back in the list\n"
    assert sorted(listed()) == ["aaaa0001", "bbbb0002"]

    unknown = "no task 'ffff0000': `taskyard tasks` lists them"
    for command in ("archive", "cancel", "retry", "logs"):
        refused(run_taskyard(command, "ffff0000", env=env), 2, unknown)
    refused(
        run_taskyard("cancel", "aaaa0001", env=env),
        1,
        "task aaaa0001 is not running: it is ready",
    )


async def test_tasks_lists_newest_first_and_filters_by_status_repo_and_limit(
    tmp_path: Path,
) -> None:
    engine = stored_engine(tmp_path / "home")
    calc = tmp_path / "calc"
    calc.mkdir()
    now = time.time()
    store_task(engine, "aaaa0001", created=now - 300, repo=str(calc))
    store_task(engine, "bbbb0002", created=now - 200, status="failed", error="no image")
    store_task(engine, "cccc0003", created=now - 100, repo=str(calc), status="cancelled")
    await engine.close()
    env = home_env(tmp_path)

    def listed(*flags: str) -> list[str]:
        return ok(run_taskyard("tasks", "--ids", *flags, env=env, cwd=tmp_path)).split()

    assert listed() == ["cccc0003", "bbbb0002", "aaaa0001"]
    table = ok(run_taskyard("tasks", env=env)).splitlines()
    assert [line.split()[0] for line in table[1:]] == ["cccc0003", "bbbb0002", "aaaa0001"]
    assert listed("--status", "failed,cancelled") == ["cccc0003", "bbbb0002"]
    assert listed("--repo", "calc") == ["cccc0003", "aaaa0001"]
    assert listed("--repo", "calc/", "--status", "ready") == ["aaaa0001"]
    assert listed("--limit", "2") == ["cccc0003", "bbbb0002"]
    refused(
        run_taskyard("tasks", "--status", "done", env=env),
        2,
        "no status 'done': use one of " + ", ".join(status.value for status in TaskStatus),
    )
    refused(run_taskyard("tasks", "--limit", "0", env=env), 2, "limit 0: list at least 1 task")


def non_output(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] != "command.output"]


def outputs(events: list[dict[str, Any]]) -> dict[str, str]:
    """Each command's output, its pieces joined."""
    joined: dict[str, str] = defaultdict(str)
    for event in events:
        if event["type"] == "command.output":
            joined[event["chunk_id"]] += event["text"]
    return dict(joined)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_run_detach_then_logs_follow_prints_the_loop_to_its_end(
    docker_available: None, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer(fix_script()) as server:
        env = model_env(server, tmp_path / "home", "chat")
        detached = ok(
            run_taskyard("run", "Fix the failing test", "--repo", str(repo), "--detach", env=env)
        )
        task_id = detached.strip()
        assert len(detached.splitlines()) == 1 and len(task_id) == 8
        followed = ok(run_taskyard("logs", "-f", task_id, env=env))
    assert f"$ {' '.join(TEST_COMMAND)}" in followed and "  │ " in followed
    assert f"ready: task {task_id}" in followed
    assert followed.rstrip().endswith(f"taskyard show {task_id} · taskyard apply {task_id}")
    assert ok(run_taskyard("logs", task_id[:6], env=env)) == followed


def test_logs_json_replays_the_events_run_json_printed(
    docker_available: None, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer(fix_script()) as server:
        env = model_env(server, tmp_path / "home", "responses")
        ran = json_lines(
            ok(run_taskyard("run", "Fix the failing test", "--repo", str(repo), "--json", env=env))
        )
    task_id = ran[-1]["task_id"]
    logged = json_lines(ok(run_taskyard("logs", task_id, "--json", env=env)))
    assert ran[0]["type"] == "task.queued" and ran[-1]["type"] == "task.finished"
    assert non_output(logged) == non_output(ran)
    assert outputs(logged) == outputs(ran) and len(outputs(ran)) == 2


def sleep_started(task_id: str, env: dict[str, str]) -> bool:
    shown = json.loads(ok(run_taskyard("show", task_id, "--json", env=env)))
    return any(command["command"] == SLEEP for command in shown["commands"])


def status_of(task_id: str, env: dict[str, str]) -> str:
    status: str = json.loads(ok(run_taskyard("show", task_id, "--json", env=env)))["status"]
    return status


def test_cancel_a_detached_task_then_retry_it(docker_available: None, tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    script = [Reply(tool_calls=[shell(*SLEEP)]), Reply(text="Nothing needs changing.")]
    with ScriptedModelServer(script) as server:
        env = model_env(server, tmp_path / "home", "chat")
        run = ["run", "Look at calc.py", "--repo", str(repo), "--mode", "ask", "--detach"]
        task_id = ok(run_taskyard(*run, env=env)).strip()
        wait_for(lambda: sleep_started(task_id, env))
        assert ok(run_taskyard("cancel", task_id, env=env)) == f"cancelled task {task_id}\n"
        assert status_of(task_id, env) == "cancelled"
        refused(
            run_taskyard("cancel", task_id, env=env),
            1,
            f"task {task_id} is not running: it is cancelled",
        )

        retried = ok(run_taskyard("retry", task_id, env=env)).strip()
        assert retried != task_id and len(retried) == 8
        followed = ok(run_taskyard("logs", "-f", retried, env=env))
    assert f"ready: task {retried}" in followed and "Nothing needs changing." in followed
    assert json.loads(ok(run_taskyard("show", retried, "--json", env=env)))["prompt"] == (
        "Look at calc.py"
    )


def test_ctrl_c_on_run_cancels_its_task_and_exits_130(
    docker_available: None, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    with ScriptedModelServer([Reply(tool_calls=[shell(*SLEEP)])]) as server:
        env = model_env(server, tmp_path / "home", "chat")
        running = subprocess.Popen(
            [TASKYARD, "run", "Look at calc.py", "--repo", str(repo)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert running.stdout is not None
        for line in running.stdout:
            if line.startswith(f"$ {' '.join(SLEEP)}"):
                break
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=120)
    assert running.returncode == 130, out + err
    assert err.startswith("taskyard: interrupted: cancelled task "), err
    task_id = err.strip().rsplit(" ", 1)[-1]
    assert status_of(task_id, env) == "cancelled"


@pytest.mark.parametrize("follow", [False, True])
async def test_logs_of_an_ended_task_print_its_reason_once(tmp_path: Path, follow: bool) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "bbbb0002", status="failed", error="image not found")
    await engine.close()
    flags = ["-f"] if follow else []
    logged = run_taskyard("logs", "bbbb0002", *flags, env=home_env(tmp_path))
    assert logged.returncode == 1
    assert logged.stderr == "taskyard: task bbbb0002 failed: image not found\n"
    assert "failed: task bbbb0002" in logged.stdout


async def test_logs_of_one_command_print_its_whole_output_or_say_how_to_name_it(
    tmp_path: Path,
) -> None:
    engine = stored_engine(tmp_path / "home")
    store_task(engine, "aaaa0001")
    whole = "".join(f"line {number}\n" for number in range(1, 20_001)) + "no newline at the end"
    store_command(engine, "aaaa0001", "c0ffee01", ["make", "-k"], whole, exit_code=2)
    store_command(engine, "aaaa0001", "c0ffee02", ["ls"], "one\n")
    await engine.close()
    env = home_env(tmp_path)

    assert ok(run_taskyard("logs", "aaaa0001", "c0ffee01", env=env)) == whole + "\n"
    assert ok(run_taskyard("logs", "aaaa", "c0ffee02", env=env)) == "one\n"
    record = json.loads(ok(run_taskyard("logs", "aaaa0001", "c0ffee01", "--json", env=env)))
    assert record["output"] == whole and record["command"] == ["make", "-k"]
    assert (record["chunk_id"], record["exit_code"], record["task_id"]) == (
        "c0ffee01",
        2,
        "aaaa0001",
    )
    listed = "`taskyard show aaaa0001` lists its commands"
    refused(
        run_taskyard("logs", "aaaa0001", "ffff0000", env=env),
        2,
        f"task aaaa0001 ran no command 'ffff0000': {listed}",
    )
    refused(
        run_taskyard("logs", "aaaa0001", "c0ff", env=env),
        2,
        "command id 'c0ff' is ambiguous (c0ffee01, c0ffee02): give more characters",
    )
    refused(
        run_taskyard("logs", "aaaa0001", "c0", env=env),
        2,
        f"command id 'c0' is too short: give at least 4 characters ({listed})",
    )
    refused(
        run_taskyard("logs", "aaaa0001", "c0ffee01", "-f", env=env),
        2,
        "-f follows a whole task: `taskyard logs -f aaaa0001` without CHUNK",
    )
    (tmp_path / "home" / "state" / "logs" / "aaaa0001" / "c0ffee02.log").unlink()
    refused(
        run_taskyard("logs", "aaaa0001", "c0ffee02", env=env),
        2,
        "the output of command c0ffee02 of task aaaa0001 is no longer kept "
        "(`taskyard gc --all` removes archived tasks' logs)",
    )


COUNTING = ["sh", "-c", "for i in $(seq 1 40); do echo line $i; sleep 0.1; done"]


def counting_started(task_id: str, env: dict[str, str]) -> bool:
    shown = json.loads(ok(run_taskyard("show", task_id, "--json", env=env)))
    return any(command["command"] == COUNTING for command in shown["commands"])


def test_logs_follow_joined_mid_command_prints_each_line_once(
    docker_available: None, tmp_path: Path
) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    script = [Reply(tool_calls=[shell(*COUNTING)]), Reply(text="Counted.")]
    with ScriptedModelServer(script) as server:
        env = model_env(server, tmp_path / "home", "chat")
        run = ["run", "Count", "--repo", str(repo), "--mode", "ask", "--detach"]
        task_id = ok(run_taskyard(*run, env=env)).strip()
        wait_for(lambda: counting_started(task_id, env), timeout=120)
        followed = ok(run_taskyard("logs", "-f", task_id, env=env))
    counted = [line for line in followed.splitlines() if line.startswith("  │ line ")]
    assert counted == [f"  │ line {i}" for i in range(1, 41)], followed
    assert ok(run_taskyard("logs", task_id, env=env)) == followed


@pytest.mark.parametrize(
    ("shown", "live", "repeated"),
    [
        ("abc", "", 0),
        ("", "abc", 0),
        ("line 1\nline 2\n", "line 2\nline 3\n", 7),
        ("x\nx\n", "x\nx\nx\n", 4),
        ("a\nb\n", "c\n", 0),
        ("ab", "abc", 2),
    ],
)
def test_live_output_already_read_is_measured_by_its_overlap(
    shown: str, live: str, repeated: int
) -> None:
    assert overlap(shown, live) == repeated


def test_a_command_says_when_the_service_reads_other_values_than_its_shell(tmp_path: Path) -> None:
    env = {**home_env(tmp_path), "OPENAI_API_KEY": "the-key-the-service-has"}
    refused(
        run_taskyard("cancel", "zzzz9999", env=env),
        2,
        "no task 'zzzz9999': `taskyard tasks` lists them",
    )
    changed = run_taskyard("cancel", "zzzz9999", env={**env, "OPENAI_API_KEY": "another-key"})
    assert changed.stderr.splitlines()[0] == (
        "taskyard: note: the running service has other values of OPENAI_API_KEY than this shell: "
        "`taskyard serve stop` so the next command starts one with yours"
    )
