"""The first model request goes out while the sandbox starts and the checkout runs; its tool
calls run only once the checkout is done. On the fake backend, with a checkout that waits for
the model and a model the test holds."""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.agent.early import EarlyRequest
from engine.agent.tools import APPLY_PATCH, SHELL
from engine.api import Engine
from engine.config import DEFAULT_IMAGE, Config
from engine.models.base import (
    AssistantMessage,
    ConversationItem,
    ModelClient,
    ModelReply,
    RetryCallback,
    TextCallback,
    ToolCall,
    ToolSpec,
    Usage,
    UserMessage,
)
from engine.paths import Paths
from engine.views.request import TaskRequest
from engine.views.task import TaskStatus
from sandboxes.base import ExecResult, OutputCallback, SandboxSpec
from sandboxes.fake import FakeBackend, FakeSandbox
from tests.support.repos import make_calc_repo

WAIT_SECONDS = 10.0
FIRST_USAGE = Usage(input_tokens=120, output_tokens=7)
AGENT_COMMAND = ["echo", "from the agent"]


class HeldModel(ModelClient):
    """Answers with one shell call, then a final text; `held` keeps the first answer back."""

    def __init__(self, log: list[str], held: bool = False) -> None:
        self.log = log
        self.asked = asyncio.Event()
        self.replied = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.release = asyncio.Event()
        if not held:
            self.release.set()
        self.requests: list[list[ConversationItem]] = []

    async def complete(
        self,
        instructions: str,
        conversation: list[ConversationItem],
        tools: list[ToolSpec],
        on_text: TextCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> ModelReply:
        self.requests.append(list(conversation))
        if len(self.requests) > 1:
            return ModelReply(AssistantMessage(text="done"), Usage(input_tokens=1))
        self.log.append("model asked")
        self.asked.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        self.log.append("model replied")
        self.replied.set()
        arguments = json.dumps({"command": AGENT_COMMAND})
        call = ToolCall(call_id="call-1", name="shell", arguments=arguments)
        return ModelReply(AssistantMessage(text="", tool_calls=(call,)), FIRST_USAGE)

    async def aclose(self) -> None:
        return None


@dataclass
class Holding:
    """What holds a checkout back, and where the order of things is written."""

    done_when: asyncio.Event
    log: list[str]


class CheckoutAfter(FakeSandbox):
    """A sandbox whose checkout ends (with `checkout_exit`) only once `done_when` is set, and
    which logs when the checkout starts and ends and when every other command starts."""

    def __init__(
        self, root: Path, spec: SandboxSpec, name: str, held: Holding, checkout_exit: int
    ) -> None:
        super().__init__(root, spec, name)
        self.held, self.checkout_exit = held, checkout_exit

    async def exec(
        self, argv: list[str], *, on_output: OutputCallback | None = None, **options: Any
    ) -> ExecResult:
        if "git clone" in argv[-1]:
            self.held.log.append("checkout started")
            await asyncio.wait_for(self.held.done_when.wait(), WAIT_SECONDS)
            for _ in range(20):
                await asyncio.sleep(0)  # every chance for a command started too soon to run
            self.held.log.append("checkout ended")
            return ExecResult(self.checkout_exit, timed_out=False, duration=0.0)
        self.held.log.append(f"command {' '.join(argv)}")
        return await super().exec(argv, on_output=on_output, **options)


class CheckoutAfterBackend(FakeBackend):
    def __init__(self, base_dir: Path, held: Holding, checkout_exit: int) -> None:
        base_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(base_dir, images={DEFAULT_IMAGE})
        self.held, self.checkout_exit = held, checkout_exit

    async def create(self, spec: SandboxSpec) -> FakeSandbox:
        root = Path(tempfile.mkdtemp(dir=self.base_dir))
        name = f"fake-{len(self.sandboxes) + 1}"
        sandbox = CheckoutAfter(root, spec, name, self.held, self.checkout_exit)
        self.sandboxes[sandbox.id] = sandbox
        return sandbox


def engine_with(
    tmp_path: Path, model: HeldModel, done_when: asyncio.Event, checkout_exit: int = 0
) -> Engine:
    paths = Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")
    held = Holding(done_when, model.log)
    backend = CheckoutAfterBackend(tmp_path / "sandboxes", held, checkout_exit)
    return Engine(paths, Config(), backend=backend, model=model)


def ask(repo: Path) -> TaskRequest:
    """A task in ask mode: its result is the answer, with no bundle to collect."""
    return TaskRequest(prompt="What does add do?", repo=str(repo), mode="ask")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_calc_repo(tmp_path / "calc")


async def test_the_first_request_goes_out_while_the_checkout_runs_and_its_command_after_it(
    tmp_path: Path, repo: Path
) -> None:
    log: list[str] = []
    model = HeldModel(log)
    engine = engine_with(tmp_path, model, done_when=model.replied)
    record = await engine.submit(ask(repo))
    finished = await engine.wait(record.id)
    assert finished.status is TaskStatus.READY, finished.error
    assert log.index("model replied") < log.index("checkout ended")
    assert log.index("checkout ended") < log.index(f"command {' '.join(AGENT_COMMAND)}")
    assert len(model.requests) == 2
    assert [c.phase for c in engine.commands(record.id)] == ["checkout", "agent"]
    assert finished.usage["input_tokens"] == FIRST_USAGE.input_tokens + 1
    await engine.close()


async def test_a_failed_checkout_drops_the_early_reply_and_keeps_its_tokens(
    tmp_path: Path, repo: Path
) -> None:
    log: list[str] = []
    model = HeldModel(log)
    engine = engine_with(tmp_path, model, done_when=model.replied, checkout_exit=1)
    record = await engine.submit(ask(repo))
    failed = await engine.wait(record.id)
    assert failed.status is TaskStatus.FAILED
    assert failed.error.startswith("checkout failed with exit code 1")
    assert not [entry for entry in log if entry.startswith("command")]
    assert len(model.requests) == 1
    assert engine.store.conversation(record.id) == []
    assert failed.usage["input_tokens"] == FIRST_USAGE.input_tokens
    await engine.close()


async def test_cancelling_during_the_checkout_cancels_the_early_request(
    tmp_path: Path, repo: Path
) -> None:
    log: list[str] = []
    model = HeldModel(log, held=True)
    never = asyncio.Event()
    engine = engine_with(tmp_path, model, done_when=never)
    record = await engine.submit(ask(repo))
    await asyncio.wait_for(model.asked.wait(), WAIT_SECONDS)
    await engine.cancel(record.id)
    cancelled = await engine.wait(record.id)
    assert cancelled.status is TaskStatus.CANCELLED
    await asyncio.wait_for(model.cancelled.wait(), WAIT_SECONDS)
    assert "model replied" not in log
    await engine.close()


async def test_an_early_reply_answers_only_the_request_it_was_sent_as_and_only_once() -> None:
    model = HeldModel([])
    prompt: list[ConversationItem] = [UserMessage(text="What does add do?")]
    early = EarlyRequest(model, "instructions", prompt, [SHELL])
    assert early.answers("instructions", list(prompt), [SHELL])
    assert not early.answers("instructions", list(prompt), [SHELL, APPLY_PATCH])
    assert not early.answers("other instructions", list(prompt), [SHELL])
    assert not early.answers("instructions", [*prompt, UserMessage(text="more")], [SHELL])
    reply = await early.reply()
    assert reply.usage == FIRST_USAGE
    assert not early.answers("instructions", list(prompt), [SHELL])
    assert early.discard() is None


async def test_a_dropped_early_request_gives_the_reply_that_came_and_cancels_one_on_its_way() -> (
    None
):
    came = HeldModel([])
    early = EarlyRequest(came, "instructions", [UserMessage(text="x")], [SHELL])
    await asyncio.wait_for(came.replied.wait(), WAIT_SECONDS)
    await asyncio.sleep(0)
    dropped = early.discard()
    assert dropped is not None and dropped.usage == FIRST_USAGE
    held = HeldModel([], held=True)
    on_its_way = EarlyRequest(held, "instructions", [UserMessage(text="x")], [SHELL])
    await asyncio.wait_for(held.asked.wait(), WAIT_SECONDS)
    assert on_its_way.discard() is None
    await asyncio.wait_for(held.cancelled.wait(), WAIT_SECONDS)
