"""What setup leaves behind, on real Docker: every process ends, and its repository files stay out
of the agent's commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from engine.config import DEFAULT_IMAGE
from engine.run.setup_leftovers import (
    SetupLeftoverError,
    end_setup_processes,
    keep_setup_changes_out,
    setup_mark,
)
from sandboxes.base import MANAGED_LABEL, SandboxSpec
from sandboxes.docker import DockerBackend, DockerConnection, DockerSandbox
from tests.support.output import Output

pytestmark = pytest.mark.usefixtures("docker_available")

REPO = "/workspace/repo"
BRANCH = "taskyard/t1"
MAKE_REPO = (
    f"git init -q -b {BRANCH} {REPO} && cd {REPO} && git config user.name t && "
    "git config user.email t@t && printf 'a\\n' > tracked.txt && printf 'b\\n' > gone.txt && "
    "printf 'c\\n' > kept.txt && git add . && git commit -qm base && git rev-parse HEAD"
)
SETUP_WRITES = (
    "printf 'token\\n' > .npmrc && mkdir -p 'odd dir' && printf x > 'odd dir/[a]*?.txt' && "
    "printf x > '#hash' && printf x > '!bang' && printf x > 'trailing ' && "
    "printf x > \"$(printf 'new\\nline')\" && printf 'token\\n' >> tracked.txt && rm gone.txt && "
    "printf x > committed.txt && git add committed.txt && git commit -qm 'by setup' && "
    "printf x > staged.txt && git add staged.txt"
)
LEAVE_PROCESSES = (
    "sleep 300 >/dev/null 2>&1 & "
    "setsid sh -c 'sleep 301 >/dev/null 2>&1 & exit 0' >/dev/null 2>&1 & "
    "nohup sh -c 'trap \"\" TERM HUP; sleep 302' >/dev/null 2>&1 & "
    "(trap '' TERM; exec -a sneaky sleep 303) >/dev/null 2>&1 &"
)
PROCESS_TABLE = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done"


@pytest.fixture
async def sandbox() -> AsyncIterator[DockerSandbox]:
    labels = {MANAGED_LABEL: "true", "dev.taskyard.test-run": uuid.uuid4().hex}
    box = await DockerBackend().create(SandboxSpec(image=DEFAULT_IMAGE, labels=labels))
    yield box
    await box.remove()


async def run(
    sandbox: DockerSandbox, script: str, workdir: str = "/", env: dict[str, str] | None = None
) -> str:
    output = Output()
    result = await sandbox.exec(["bash", "-c", script], workdir=workdir, env=env, on_output=output)
    text = output.data.decode()
    assert result.exit_code == 0, text
    return text


async def test_processes_setup_left_running_are_all_gone_before_the_agent(
    sandbox: DockerSandbox,
) -> None:
    mark = setup_mark()
    await run(sandbox, LEAVE_PROCESSES, env=mark)
    assert "sleep 300" in await run(sandbox, PROCESS_TABLE)
    await end_setup_processes(sandbox, mark)
    table = await run(sandbox, PROCESS_TABLE)
    assert "sleep 30" not in table and "sneaky" not in table
    assert "sleep infinity" in table


class UnrestartableSandbox(DockerSandbox):
    """A sandbox whose restart ends nothing, as a broken backend's would."""

    async def stop(self) -> None:
        return None

    async def start(self) -> None:
        return None


async def test_a_setup_process_that_outlives_the_restart_stops_the_task(
    sandbox: DockerSandbox,
) -> None:
    mark = setup_mark()
    await run(sandbox, "sleep 300 >/dev/null 2>&1 &", env=mark)
    broken = UnrestartableSandbox(DockerConnection(None, 60), sandbox.id)
    with pytest.raises(
        SetupLeftoverError, match=r"survived the sandbox restart: pid \d+: sleep 300"
    ):
        await end_setup_processes(broken, mark)
    await end_setup_processes(broken, setup_mark())


async def test_files_setup_wrote_in_the_repository_stay_out_of_the_agents_commit(
    sandbox: DockerSandbox,
) -> None:
    base = (await run(sandbox, MAKE_REPO)).strip()
    await run(sandbox, SETUP_WRITES, REPO)
    await keep_setup_changes_out(sandbox, REPO, BRANCH, base)
    agent_writes = "printf 'agent\\n' > agent.txt && printf 'd\\n' >> kept.txt"
    await run(sandbox, agent_writes + " && printf x > 'odd dir/agent.txt'", REPO)
    await run(sandbox, "git add --all && git commit -qm agent", REPO)
    changed = await run(sandbox, f"git diff --name-status {base} HEAD", REPO)
    assert changed.splitlines() == ["A\tagent.txt", "M\tkept.txt"]
    assert (await run(sandbox, "git branch --show-current", REPO)).strip() == BRANCH
    assert "token" in await run(sandbox, "cat .npmrc tracked.txt", REPO)
