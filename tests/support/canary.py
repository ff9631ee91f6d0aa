"""The secret canary: a setup that leaks a secret every way it can, and a count of its hits in
every place taskyard keeps or sends something.

Used by tests/test_secrets_docker.py and benchmarks/secret_canary.py.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.api import Engine, TaskRequest
from engine.secrets.values import secret_forms
from engine.views.events import Event
from engine.views.task import TaskRecord
from tests.support.agent_script import shell
from tests.support.cli import model_env, run_taskyard
from tests.support.engines import run_to_end, scripted_engine
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import FIX_PATCH, git, make_calc_repo

SECRET_NAME = "NPM_TOKEN"
LEFT_RUNNING = "sleep 300"

CANARY_SETUP = f"""
echo "token: ${SECRET_NAME}"
printf 'base64: %s\\n' "$(printf %s "${SECRET_NAME}" | base64 -w0)"
python3 -c 'import os, urllib.parse; print("url:", urllib.parse.quote(os.environ["{SECRET_NAME}"]))'
python3 -c 'import json, os; print("json:", json.dumps(os.environ["{SECRET_NAME}"]))'
printf 'split: %s' "${{{SECRET_NAME}:0:9}}"; sleep 1; printf '%s\\n' "${{{SECRET_NAME}:9}}"
echo "//registry.npmjs.org/:_authToken=${SECRET_NAME}" > .npmrc
echo "//registry.npmjs.org/:_authToken=${SECRET_NAME}" > ~/.npmrc
{LEFT_RUNNING} &
setsid sh -c '{LEFT_RUNNING} & exit 0' &
"""
"""Echoes the secret raw, base64, URL-encoded, JSON-escaped and split across two writes with a
sleep between; writes it into the repository and outside it; leaves a background process and a
setsid, double-forked one, both with the secret in their environment."""

PROCESS_TABLE = (
    "for p in /proc/[0-9]*; do "
    'printf "%s %s\\n" "${p#/proc/}" "$(tr "\\0" " " < $p/cmdline 2>/dev/null)"; done'
)
AGENT_LOOKS = [
    shell("bash", "-c", "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'"),
    shell("bash", "-c", PROCESS_TABLE),
    shell("bash", "-c", "cat ~/.npmrc; git status --short"),
]
"""What a hostile agent tries: every process's environment, the process table, the files."""


def canary_value() -> str:
    """A fresh canary whose URL, JSON and base64 forms all differ from the raw value."""
    return f"tyCanary/{secrets.token_hex(10)}+ü="


def canary_script() -> list[object]:
    """The agent's turns: look for the secret, fix calc.py, answer."""
    return [
        *(Reply(tool_calls=[call]) for call in AGENT_LOOKS),
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(text="Fixed add."),
    ]


@dataclass
class CanaryRun:
    """A finished canary task and everything needed to look for the canary afterwards."""

    canary: str
    home: Path
    repo: Path
    engine: Engine
    record: TaskRecord
    events: list[Event]
    server: ScriptedModelServer

    def tool_outputs(self) -> list[str]:
        return self.server.requests[-1].tool_outputs()


async def run_canary(root: Path, canary: str | None = None) -> CanaryRun:
    """Run the canary task on real Docker with the secret given as an `env:` reference."""
    value = canary or canary_value()
    repo = make_calc_repo(root / "calc")
    environments = {
        "default": {"setup": CANARY_SETUP, "secrets": {SECRET_NAME: f"env:{SECRET_NAME}"}}
    }
    before = os.environ.get(SECRET_NAME)
    os.environ[SECRET_NAME] = value
    server = ScriptedModelServer(canary_script()).start()
    engine = scripted_engine(root / "home", server, environments=environments)
    try:
        record, events = await run_to_end(engine, TaskRequest(prompt="fix add", repo=str(repo)))
    finally:
        server.stop()
        restore_variable(SECRET_NAME, before)
    return CanaryRun(value, root / "home", repo, engine, record, events, server)


def restore_variable(name: str, value: str | None) -> None:
    """Put an environment variable back as it was."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


class HitCounter:
    """Counts the occurrences of every form of one secret value."""

    def __init__(self, value: str) -> None:
        forms = secret_forms(value)
        self._pattern = re.compile(b"|".join(re.escape(form) for form in forms))

    def count(self, data: bytes | str) -> int:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        return len(self._pattern.findall(data))

    def count_all(self, pieces: Iterable[bytes | str]) -> int:
        return sum(self.count(piece) for piece in pieces)


def canary_counts(run: CanaryRun, applied_branch: str) -> dict[str, int]:
    """The canary's hits in each place taskyard keeps or sends something."""
    counter = HitCounter(run.canary)
    state = run.engine.paths.state_dir
    task_id = run.record.id
    return {
        "store (SQLite files)": counter.count_all(
            path.read_bytes() for path in state.glob("taskyard.db*")
        ),
        "log files": counter.count_all(
            path.read_bytes() for path in run.engine.paths.logs_dir.rglob("*") if path.is_file()
        ),
        "events (stored and streamed)": counter.count_all(
            json.dumps(event.to_dict(), ensure_ascii=escape)
            for event in [*run.engine.events(task_id), *run.events]
            for escape in (True, False)
        ),
        "model requests": counter.count_all(
            json.dumps(request.body, ensure_ascii=escape)
            for request in run.server.requests
            for escape in (True, False)
        ),
        "show --json": counter.count(show_json(run)),
        "result bundle": counter.count(
            bundle_objects(Path(run.record.result_bundle), run.repo, run.record.base_sha, run.home)
        ),
        "branch made by apply": counter.count(
            git(run.repo, "log", "-p", "--binary", applied_branch)
        ),
        "docker inspect": counter.count(docker_inspect(run.record.sandbox_id)),
    }


def show_json(run: CanaryRun) -> str:
    """`taskyard show ID --json` of the canary task, run as a person would."""
    env = model_env(run.server, run.home, "chat")
    shown = run_taskyard("show", run.record.id, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def bundle_objects(bundle: Path, base_repo: Path, base_sha: str, scratch: Path) -> bytes:
    """Every object a result bundle holds (and those of its base commit), uncompressed."""
    unpacked = scratch / "canary-bundle"

    def run(*args: str) -> bytes:
        return subprocess.run(
            ["git", "-C", str(unpacked), *args], check=True, capture_output=True
        ).stdout

    subprocess.run(["git", "init", "-q", "--bare", str(unpacked)], check=True)
    run("fetch", "-q", str(base_repo), f"{base_sha}:refs/base")
    run("fetch", "-q", str(bundle), "+refs/*:refs/bundle/*")
    return run("cat-file", "--batch-all-objects", "--batch")


def docker_inspect(container_id: str) -> str:
    """`docker inspect` of the task's container."""
    return subprocess.run(
        ["docker", "inspect", container_id], check=True, capture_output=True, text=True
    ).stdout


def print_counts(counts: dict[str, int]) -> None:
    """The per-place table of canary hits."""
    width = max(len(place) for place in counts)
    print(f"{'place':<{width}}  hits")
    for place, hits in counts.items():
        print(f"{place:<{width}}  {hits:>4}")
    print(f"{'total':<{width}}  {sum(counts.values()):>4}")
