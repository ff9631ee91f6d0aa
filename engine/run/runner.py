"""Run one task from queued to a result: source, sandbox, setup, agent loop, result."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import posixpath
import time
import traceback
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from engine.agent.early import EarlyRequest
from engine.agent.loop import (
    AgentLoop,
    LoopLimits,
    LoopOutcome,
    item_from_dict,
    item_to_dict,
    record_usage,
    retry_event,
    turns_since_prompt,
    wall_seconds_used,
)
from engine.agent.repair import dangling_calls
from engine.agent.tools import ToolBox, tool_specs
from engine.config import CA_ENV_VARS, Config, ConfigError, Environment
from engine.git import gitops
from engine.git.host_result import cached_result
from engine.hosts.gc import HOME_LABEL, TASK_LABEL
from engine.hosts.host import LOCAL, HostError
from engine.hosts.pool import HostPool
from engine.models.base import (
    AssistantMessage,
    ConversationItem,
    ModelClient,
    ModelError,
    ToolResult,
    Usage,
    UserMessage,
)
from engine.paths import Paths
from engine.record.bus import EventBus
from engine.record.lifecycle import TaskLifecycle
from engine.record.store import Store
from engine.run.commands import CommandRunner
from engine.run.disk_watch import DiskLimit, DiskLimitExceeded, within_disk_limit
from engine.run.evidence import evidence_for
from engine.run.layout import CA_DIR, INBOX_DIR, REPO_DIR
from engine.run.prompt import build_instructions, user_prompt
from engine.run.results import ResultCollector, ResultError
from engine.run.setup_leftovers import (
    SETUP_RUNNER,
    SetupLeftoverError,
    end_setup_processes,
    keep_setup_changes_out,
    setup_mark,
)
from engine.secrets.refs import SecretReferenceError, resolve_secrets
from engine.secrets.values import Redactor, Secret
from engine.views.events import (
    Event,
    FollowUpStarted,
    NetworkChanged,
    SandboxReady,
    SourcePrepared,
    TaskFinished,
)
from engine.views.task import TaskRecord, TaskStatus
from sandboxes.base import (
    MANAGED_LABEL,
    BackendUnavailable,
    RuntimeNotInstalled,
    Sandbox,
    SandboxBackend,
    SandboxError,
    SandboxSpec,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

ASK_USER = "65534:65534"
ASK_ENV = {
    "HOME": "/tmp",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "safe.directory",
    "GIT_CONFIG_VALUE_0": "*",
}
SYSTEM_STEP_TIMEOUT = 300.0
SETUP_INTERRUPTED = "interrupted during setup: retry it"
"""Why a task whose process stopped before its agent began fails: setup is not run twice."""
CONTAINER_GONE = "its container is gone: retry it"
RECONNECT_POLL_SECONDS = 1.0
"""How often a resumed task tries its host again while it is down."""
EXPECTED_ERRORS = (
    gitops.GitError,
    HostError,
    SandboxError,
    ModelError,
    ConfigError,
    ResultError,
    DiskLimitExceeded,
    SecretReferenceError,
    SetupLeftoverError,
    OSError,
)


class TaskError(Exception):
    """A step of the task failed; the message is shown to the person."""


@dataclass
class RunContext:
    """What every task run shares: config, directories, store, events, sandboxes, model."""

    config: Config
    paths: Paths
    store: Store
    bus: EventBus
    hosts: HostPool
    model: ModelClient

    @property
    def lifecycle(self) -> TaskLifecycle:
        """The owner of the tasks' status, over this store and bus."""
        return TaskLifecycle(self.store, self.bus)


def branch_name(task_id: str) -> str:
    return f"taskyard/{task_id}"


def container_name(state_dir: Path, task_id: str) -> str:
    """The task's container name, unique per store since one Docker engine may serve several."""
    store_tag = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:8]
    return f"taskyard-{store_tag}-{task_id}"


DEFAULT_ENV = {"PYTHONDONTWRITEBYTECODE": "1"}


def sandbox_env(environment: Environment) -> dict[str, str]:
    """The task-wide environment variables, CA bundle variables included.

    Python writes no bytecode by default: a same-second, same-size edit would otherwise run a
    stale .pyc, and caches would end up in the diff.
    """
    env = {**DEFAULT_ENV, **environment.env}
    if environment.ca_bundle is not None:
        inside = posixpath.join(CA_DIR, Path(environment.ca_bundle).name)
        env.update({name: inside for name in CA_ENV_VARS})
    return env


def runtime_missing(runtime: str, installed: Sequence[str], host: str) -> str:
    """The message for a [sandbox] runtime the host does not have."""
    return (
        f"runtime {runtime} is not installed on host {host} "
        f"(it has: {', '.join(installed)}): install it or unset [sandbox] runtime"
    )


def finished_event(record: TaskRecord, verdict_detail: str = "") -> TaskFinished:
    """The task.finished event announcing a stored task's result."""
    return TaskFinished(
        verdict=record.verdict,
        verdict_detail=verdict_detail,
        task_id=record.id,
        status=record.status,
        diff=record.diff,
        final_message=record.final_message,
        citations=record.citations,
        usage=record.usage,
        error=record.error,
        branch=record.branch,
        head_sha=record.head_sha,
    )


class TaskRun:
    """Drives one task through the state machine, recording every step."""

    def __init__(self, ctx: RunContext, task: TaskRecord, pinned: str | None = None) -> None:
        self.ctx = ctx
        self.task = task
        self.pinned = pinned
        """The host the task must run on; any host with a free slot when None."""
        self.backend: SandboxBackend | None = None
        self.host_name = ""
        """The host the task was placed on; empty until then."""
        self.environment = ctx.config.environment(task.environment)
        self.sandbox: Sandbox | None = None
        self._early: EarlyRequest | None = None
        """The first model request, sent once the source is prepared."""
        self._secrets: list[Secret] | None = None
        self._verdict_detail = ""
        """Why the evidence of the result just stored needs a second look; empty when not."""
        self.redactor = Redactor(())
        """Replaces the task's secret values in what it records and announces."""
        self.commands = CommandRunner(
            task.id,
            ctx.store,
            ctx.bus.emit,
            ctx.paths.logs_dir,
            ctx.config.agent.output_head_lines,
            ctx.config.agent.output_tail_lines,
        )

    @property
    def ask_mode(self) -> bool:
        return self.task.mode == "ask"

    async def _load_secrets(self) -> None:
        """Resolve the secrets off the event loop; from now on they are redacted everywhere."""
        secrets = await asyncio.to_thread(self.secrets)
        self.redactor = Redactor(secrets)
        self.commands.redactor = self.redactor

    def _emit(self, event: Event) -> None:
        """Announce an event with the task's secret values redacted from its text."""
        self.ctx.bus.emit(self.redactor.redact_fields(event))

    def set_status(self, status: TaskStatus, detail: str = "", error: str | None = None) -> None:
        """Move the task through its lifecycle; `detail` and `error` are redacted first."""
        redact = self.redactor.redact_text
        error = None if error is None else redact(error)
        self.ctx.lifecycle.move(self.task.id, status, redact(detail), error)

    async def run(self) -> None:
        """Run to a terminal status; never raises for a task's own failure or cancellation."""
        await self._guarded(self._run())

    async def follow_up(self, prompt: str) -> None:
        """Run a follow-up turn to a terminal status, like run()."""
        await self._guarded(self._follow_up(prompt))

    async def resume(self) -> None:
        """Take the task up where the process that ran it stopped, to a terminal status, like
        run(): a task still in provisioning or setup fails, one in its agent loop goes on."""
        await self._guarded(self._resume())

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            await asyncio.shield(self._end(TaskStatus.CANCELLED, "cancelled"))
        except BackendUnavailable as error:
            await asyncio.shield(self._end(TaskStatus.FAILED, self._host_down(error)))
        except (TaskError, *EXPECTED_ERRORS) as error:
            await asyncio.shield(self._end(TaskStatus.FAILED, str(error)))
        except Exception as error:
            await asyncio.shield(self._end(TaskStatus.FAILED, self._internal_error(error)))
        finally:
            self.ctx.hosts.release(self.task.id)

    async def _place(self, pinned: str | None) -> SandboxBackend:
        """Wait for a slot on a host, reach it, and record where the task runs."""
        host, backend = await self.ctx.hosts.place(self.task.id, pinned)
        self.backend, self.host_name = backend, host.name
        self.ctx.store.update_task(self.task.id, host=host.name)
        return backend

    def _host_down(self, error: BackendUnavailable) -> str:
        """Mark the task's host down; the task's error says so and how to go on."""
        if not self.host_name:
            return str(error)
        self.ctx.hosts.get(self.host_name).mark_down(str(error))
        return (
            f"host {self.host_name} is down: {error}. Retry the task (r on the board) "
            "to run it again on a host that is up"
        )

    def _internal_error(self, error: Exception) -> str:
        path = self.ctx.paths.logs_dir / self.task.id / "internal-error.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.redactor.redact_text("".join(traceback.format_exception(error)))
        path.write_text(text, encoding="utf-8")
        return f"internal error: {error!r} (traceback in {path})"

    async def _run(self) -> None:
        await self._load_secrets()
        await self._place(self.pinned)
        self.set_status(TaskStatus.PROVISIONING)
        prepared, docs, sandbox = await self._provision()
        self.sandbox = sandbox
        await self._checkout(prepared)
        self.set_status(TaskStatus.SETUP)
        await self._disk_limited(self._setup(prepared.base_sha))
        await self._cut_network()
        self.set_status(TaskStatus.RUNNING)
        instructions, prompt = self._first_turn(docs)
        self.ctx.store.update_task(self.task.id, instructions=instructions)
        outcome = await self._agent(instructions, [], prompt)
        await self._finish(prepared.base_sha, outcome)

    def _first_turn(self, docs: list[gitops.AgentsDoc]) -> tuple[str, str]:
        """The instructions and the prompt of a task's first turn."""
        instructions = build_instructions("ask" if self.ask_mode else "code", docs, REPO_DIR)
        return instructions, user_prompt(self.task.prompt, self.environment.workdir)

    def _ask_early(self, docs: list[gitops.AgentsDoc]) -> None:
        """Send the first turn's request now: its reply waits for the agent loop, which runs
        its tool calls only once the checkout is done."""
        instructions, prompt = self._first_turn(docs)
        self._early = EarlyRequest(
            self.ctx.model,
            instructions,
            [UserMessage(text=prompt)],
            tool_specs(allow_patch=not self.ask_mode),
            on_retry=lambda notice: self._emit(retry_event(self.task.id, notice)),
        )

    def _drop_early(self) -> None:
        """Drop the early request unless the loop took its reply; a reply that came is
        recorded as a turn, since its tokens were spent."""
        reply = self._early.discard() if self._early is not None else None
        if reply is None:
            return
        store = self.ctx.store
        turn = len(store.turns(self.task.id)) + 1
        record_usage(store, self._emit, self.task.id, turn, reply.usage)

    async def _follow_up(self, prompt: str) -> None:
        """A new turn in the same sandbox and branch, with the conversation so far."""
        self.set_status(TaskStatus.RUNNING, "follow-up")
        await self._load_secrets()
        self._emit(FollowUpStarted(task_id=self.task.id, prompt=prompt))
        backend = await self._place(self.task.host or LOCAL)
        self.sandbox = await backend.attach(self.task.sandbox_id)
        await self.sandbox.start()
        store = self.ctx.store
        conversation = [item_from_dict(item) for item in store.conversation(self.task.id)]
        outcome = await self._agent(
            self.task.instructions, conversation, prompt, turn=len(store.turns(self.task.id))
        )
        await self._finish(self.task.base_sha, outcome)

    async def _resume(self) -> None:
        """Reach the task's sandbox again, give the tool calls that were running their results,
        and go on with the agent loop (or straight to the result, when it had answered)."""
        if self.task.status != TaskStatus.RUNNING or not self.task.instructions:
            await self._attach_left_sandbox()
            raise TaskError(SETUP_INTERRUPTED)
        await self._load_secrets()
        await self._reach_sandbox()
        conversation = await self._recovered_conversation()
        last = conversation[-1] if conversation else None
        if isinstance(last, AssistantMessage) and not last.tool_calls:
            outcome = LoopOutcome(last.text, Usage())
        else:
            outcome = await self._agent(
                self.task.instructions,
                conversation,
                None,
                turn=len(self.ctx.store.turns(self.task.id)),
                turns_used=turns_since_prompt(conversation),
                wall_used=wall_seconds_used(self.ctx.store.events(self.task.id)),
            )
        await self._finish(self.task.base_sha, outcome)

    async def _attach_left_sandbox(self) -> None:
        """Take a handle on the sandbox a stopped process left, when it can be reached, so that
        ending the task stops it."""
        if not (self.task.host and self.task.sandbox_id):
            return
        with contextlib.suppress(HostError, SandboxError):
            backend = await self.ctx.hosts.get(self.task.host).connect()
            self.sandbox = await backend.attach(self.task.sandbox_id)

    async def _reach_sandbox(self) -> None:
        """The task's container on its host, started if it stopped; TaskError when the host
        stays down for its reconnect_seconds or the container is gone."""
        backend = await self._reach_host()
        try:
            self.sandbox = await backend.attach(self.task.sandbox_id)
        except BackendUnavailable:
            raise
        except SandboxError as error:
            raise TaskError(f"{CONTAINER_GONE} ({error})") from None
        await self.sandbox.start()

    async def _reach_host(self) -> SandboxBackend:
        """A slot on the task's host, tried again while it is down, for its reconnect_seconds."""
        name = self.task.host or LOCAL
        give_up = time.monotonic() + self.ctx.hosts.get(name).spec.reconnect_seconds
        while True:
            try:
                return await self._place(name)
            except HostError as error:
                if time.monotonic() >= give_up:
                    raise TaskError(
                        f"host {name} is down ({error}): retry the task (r on the board) to "
                        "run it again on a host that is up"
                    ) from None
            await asyncio.sleep(RECONNECT_POLL_SECONDS)

    async def _recovered_conversation(self) -> list[ConversationItem]:
        """The stored conversation, each call the stopped process was running given its
        result, stored too."""
        store, tools = self.ctx.store, self._toolbox()
        conversation = [item_from_dict(item) for item in store.conversation(self.task.id)]
        commands = {c.call_id: c for c in store.commands(self.task.id) if c.call_id}
        for call in dangling_calls(conversation):
            output = await tools.resumed(call, commands.get(call.call_id))
            result = ToolResult(call_id=call.call_id, output=output)
            conversation.append(result)
            store.append_conversation(self.task.id, item_to_dict(result))
        return conversation

    def _workdir(self) -> str:
        return posixpath.join(REPO_DIR, self.environment.workdir).rstrip("/") or REPO_DIR

    async def _provision(self) -> tuple[gitops.PreparedSource, list[gitops.AgentsDoc], Sandbox]:
        """Prepare the source on the host while the sandbox starts; once it is prepared, send
        the first model request, unless a setup script runs first (the model hears of a task
        only once its setup is done)."""
        source_job = self._prepare_source_and_ask()
        assert self.backend is not None
        sandbox_job = self.backend.create(self._sandbox_spec())
        results = await asyncio.gather(source_job, sandbox_job, return_exceptions=True)
        source, sandbox = results
        if isinstance(sandbox, Sandbox):
            self._record_sandbox(sandbox)
        for result in results:
            if isinstance(result, BaseException):
                if isinstance(sandbox, Sandbox):
                    self.sandbox = sandbox
                if isinstance(result, RuntimeNotInstalled):
                    raise TaskError(
                        runtime_missing(result.runtime, result.installed, self.host_name)
                    )
                raise result
        assert isinstance(sandbox, Sandbox) and isinstance(source, tuple)
        return source[0], source[1], sandbox

    async def _prepare_source_and_ask(
        self,
    ) -> tuple[gitops.PreparedSource, list[gitops.AgentsDoc]]:
        prepared, docs = await asyncio.to_thread(self._prepare_source)
        if not self.environment.setup.strip():
            self._ask_early(docs)
        return prepared, docs

    def _prepare_source(self) -> tuple[gitops.PreparedSource, list[gitops.AgentsDoc]]:
        paths = self.ctx.paths
        out_dir = paths.work_dir / self.task.id
        out_dir.mkdir(parents=True, exist_ok=True)
        prepared = gitops.prepare_source(
            self.task.repo,
            self.task.ref,
            paths.repo_cache_dir,
            out_dir,
            uncommitted=self.task.include_uncommitted,
        )
        docs = gitops.agents_docs(prepared, paths.repo_cache_dir, self.environment.workdir)
        branch = branch_name(self.task.id)
        self.ctx.store.update_task(
            self.task.id, base_sha=prepared.base_sha, ref=prepared.ref, branch=branch
        )
        return prepared, docs

    def _sandbox_spec(self) -> SandboxSpec:
        settings = self.ctx.config.sandbox
        return SandboxSpec(
            image=self.task.image,
            labels={
                MANAGED_LABEL: "true",
                TASK_LABEL: self.task.id,
                HOME_LABEL: str(self.ctx.paths.state_dir),
                "dev.taskyard.mode": self.task.mode,
            },
            env=sandbox_env(self.environment),
            network=self._needs_network_at_start(),
            memory=settings.memory,
            pids_limit=settings.pids_limit,
            cpus=settings.cpus,
            disk=settings.disk,
            runtime=settings.runtime,
            name=container_name(self.ctx.paths.state_dir, self.task.id),
        )

    async def _disk_limited(self, work: Coroutine[Any, Any, T]) -> T:
        """Run work, stopped once the sandbox writes past [sandbox] disk."""
        settings = self.ctx.config.sandbox
        limit = (
            None if settings.disk is None else DiskLimit(settings.disk, settings.disk_check_seconds)
        )
        return await within_disk_limit(work, self._require_sandbox(), limit)

    def _needs_network_at_start(self) -> bool:
        return bool(self.environment.setup.strip()) or self.environment.network == "on"

    def _record_sandbox(self, sandbox: Sandbox) -> None:
        self.ctx.store.update_task(self.task.id, sandbox_id=sandbox.id)
        self._emit(
            SandboxReady(
                task_id=self.task.id,
                sandbox_id=sandbox.id,
                image=self.task.image,
                network=self._needs_network_at_start(),
            )
        )

    def _require_sandbox(self) -> Sandbox:
        if self.sandbox is None:
            raise TaskError("the sandbox is not running")
        return self.sandbox

    async def _checkout(self, prepared: gitops.PreparedSource) -> None:
        sandbox = self._require_sandbox()
        self._emit(
            SourcePrepared(
                task_id=self.task.id,
                base_sha=prepared.base_sha,
                ref=prepared.ref,
                branch=branch_name(self.task.id),
            )
        )
        if self.environment.ca_bundle is not None:
            await sandbox.copy_in(str(self.environment.ca_bundle), CA_DIR)
        bundle = posixpath.join(INBOX_DIR, Path(prepared.bundle_path).name)
        script = gitops.checkout_script(
            bundle,
            REPO_DIR,
            branch_name(self.task.id),
            prepared.base_sha,
            received_bytes=prepared.bundle_path.stat().st_size,
        )
        await self._system_step(
            "checkout", ["sh", "-c", script], "/", stdin_path=str(prepared.bundle_path)
        )

    async def _system_step(
        self,
        phase: str,
        argv: list[str],
        workdir: str,
        timeout: float = SYSTEM_STEP_TIMEOUT,
        env: dict[str, str] | None = None,
        stdin_path: str | None = None,
    ) -> None:
        outcome = await self.commands.run(
            self._require_sandbox(),
            argv,
            workdir=workdir,
            phase=phase,
            timeout=timeout,
            env=env,
            stdin_path=stdin_path,
        )
        if outcome.result.timed_out:
            raise TaskError(
                f"{phase} timed out: {outcome.killed(timeout)} (log chunk {outcome.chunk_id})"
            )
        if outcome.result.exit_code != 0:
            raise TaskError(
                f"{phase} failed with exit code {outcome.result.exit_code} "
                f"(log chunk {outcome.chunk_id}: `taskyard show {self.task.id}`)"
            )

    async def _setup(self, base_sha: str) -> None:
        """Run the setup script with the secrets; then end every process it started and keep
        the files it wrote in the repository out of the result."""
        script = self.environment.setup.strip()
        if not script:
            return
        sandbox = self._require_sandbox()
        path = posixpath.join(INBOX_DIR, "setup.sh")
        runner = posixpath.join(INBOX_DIR, "run-setup.sh")
        await sandbox.write_file(path, (script + "\n").encode("utf-8"), mode=0o755)
        await sandbox.write_file(runner, SETUP_RUNNER.encode(), mode=0o755)
        mark = setup_mark()
        await self._system_step(
            "setup",
            ["bash", runner, path, posixpath.join(INBOX_DIR, "setup.out")],
            self._workdir(),
            timeout=self.ctx.config.agent.setup_timeout_seconds,
            env={**mark, **{secret.name: secret.value for secret in self.secrets()}},
        )
        await end_setup_processes(sandbox, mark)
        await keep_setup_changes_out(sandbox, REPO_DIR, branch_name(self.task.id), base_sha)

    async def _cut_network(self) -> None:
        if not self._needs_network_at_start() or self.environment.network == "on":
            return
        await self._require_sandbox().set_network(False)
        self._emit(NetworkChanged(task_id=self.task.id, enabled=False))

    def _toolbox(self) -> ToolBox:
        agent = self.ctx.config.agent
        return ToolBox(
            sandbox=self._require_sandbox(),
            runner=self.commands,
            emit=self._emit,
            repo_dir=REPO_DIR,
            workdir=self._workdir(),
            default_timeout=agent.command_timeout_seconds,
            max_timeout=agent.max_command_timeout_seconds,
            allow_patch=not self.ask_mode,
            user=ASK_USER if self.ask_mode else None,
            env=ASK_ENV if self.ask_mode else None,
            redactor=self.redactor,
        )

    async def _agent(
        self,
        instructions: str,
        conversation: list[ConversationItem],
        prompt: str | None,
        turn: int = 0,
        turns_used: int = 0,
        wall_used: float = 0.0,
    ) -> LoopOutcome:
        """Run the agent loop on the conversation, after `prompt` when one is given."""
        agent = self.ctx.config.agent
        loop = AgentLoop(
            task_id=self.task.id,
            client=self.ctx.model,
            tools=self._toolbox(),
            instructions=instructions,
            limits=LoopLimits(agent.max_turns, agent.max_wall_seconds, agent.max_tokens),
            store=self.ctx.store,
            emit=self._emit,
            conversation=conversation,
            turn=turn,
            turns_used=turns_used,
            wall_used=wall_used,
            early=self._early,
        )
        if prompt is not None:
            loop.add(UserMessage(text=prompt))
        return await self._disk_limited(loop.run())

    async def _finish(self, base_sha: str, outcome: LoopOutcome) -> None:
        results = ResultCollector(self._require_sandbox(), self.ctx.store, self.task.id)
        if not self.ask_mode:
            bundle = self.ctx.paths.results_dir / f"{self.task.id}.bundle"
            message = f"taskyard: {self.task.prompt.strip().splitlines()[0][:60]}"
            incoming = bundle.with_suffix(".incoming")
            await results.commit_and_bundle(base_sha, branch_name(self.task.id), message, incoming)
            await self._record_result(incoming, bundle)
        final_message = self.redactor.redact_text(outcome.final_message)
        self.ctx.store.update_task(
            self.task.id,
            final_message=final_message,
            citations=self.redactor.redact_data(await results.citations(final_message)),
        )
        self._judge()
        if outcome.stopped_by:
            await self._end(TaskStatus.FAILED, f"the agent was stopped at {outcome.stopped_by}")
        else:
            await self._end(TaskStatus.READY, "")

    def secrets(self) -> list[Secret]:
        """The task's secret values, resolved on the host on first use (a `cmd:` reference
        runs then, blocking); SecretReferenceError when one cannot be resolved."""
        if self._secrets is None:
            self._secrets = resolve_secrets(self.task.environment, self.environment)
        return self._secrets

    async def _record_result(self, incoming: Path, bundle: Path) -> None:
        """Read the result from the sandbox's `incoming` bundle on the host, keep the bundle
        as `bundle` once verified, and store the head, the diff (redacted) and what every
        commit was found to carry."""
        task = self.ctx.store.get_task(self.task.id)
        assert task is not None
        secrets = self.secrets()
        try:
            result = await asyncio.to_thread(
                cached_result, task, self.ctx.paths.repo_cache_dir, incoming, secrets
            )
        except gitops.GitError:
            incoming.unlink(missing_ok=True)
            raise
        incoming.replace(bundle)
        self.ctx.store.update_task(
            self.task.id,
            diff=result.stored_diff(secrets),
            head_sha=result.head_sha,
            result_bundle=str(bundle),
            findings=result.stored_findings(),
        )

    def _judge(self) -> None:
        """Record the verdict of the evidence behind the result just stored."""
        store = self.ctx.store
        task = store.get_task(self.task.id)
        assert task is not None
        evidence = evidence_for(task, store.commands(task.id))
        store.update_task(task.id, verdict=evidence.verdict)
        self._verdict_detail = evidence.verdict_detail

    async def _end(self, status: TaskStatus, error: str) -> None:
        """Record the terminal status and the tokens spent so far, stop the sandbox, and
        announce the result."""
        self._drop_early()
        self.ctx.store.update_task(self.task.id, usage=self.ctx.store.total_usage(self.task.id))
        self.set_status(status, error, error=error)
        await self._stop_sandbox()
        task = self.ctx.store.get_task(self.task.id)
        assert task is not None
        self._emit(finished_event(task, self._verdict_detail))

    async def _stop_sandbox(self) -> None:
        if self.sandbox is None:
            return
        try:
            await self.sandbox.stop()
        except SandboxError as error:
            log.warning("could not stop sandbox %s: %s", self.sandbox.id, error)
