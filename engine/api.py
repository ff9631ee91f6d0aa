"""The engine's one door: submit, watch, cancel and accept tasks; read what is recorded.

The board and the plain commands use nothing else. Events are serialisable, so this API can move
into a background service later.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from engine.accept import accepting as accept
from engine.accept.choice import choose, rejected_prompt
from engine.config import Config, ConfigError, load_config
from engine.delivery.deliver import (
    DeliveryError,
    deliver,
    delivery_plan,
    record_delivery,
    record_failure,
)
from engine.doctor import config_in_use, run_checks
from engine.errors import EngineError
from engine.git import gitops
from engine.hosts.checks import check_host, host_status, probe
from engine.hosts.gc import GarbageCollector
from engine.hosts.host import LOCAL, Host, HostError, HostSpec, host_specs
from engine.hosts.pool import HostPool
from engine.models import make_model_client
from engine.models.base import ModelClient, ModelError, ModelSettings
from engine.models.errors import API_KEY_KEY
from engine.paths import Paths, default_paths
from engine.record.bus import EventBus, Subscription
from engine.record.lease import LEASE_SECONDS, Lease, live_owners
from engine.record.lifecycle import TaskLifecycle
from engine.record.store import Store
from engine.run.evidence import evidence_for
from engine.run.ranking import rank_attempts
from engine.run.runner import RunContext, TaskRun, runtime_missing
from engine.secrets.refs import SecretReferenceError, resolve_reference, resolve_secrets
from engine.secrets.values import Secret
from engine.views.accept import Accepted, AcceptRequest, Choice, Delivery
from engine.views.diff import FileDiff
from engine.views.events import (
    EVENT_TYPES,
    Event,
    TaskArchived,
    TaskQueued,
    TaskResumed,
    event_from_dict,
)
from engine.views.hosts import GcReport, HostCheck, HostStatus
from engine.views.request import MAX_ATTEMPTS, TaskRequest, UncommittedWork, is_remote
from engine.views.result import Evidence, RankedAttempt
from engine.views.task import ACTIVE, CommandRecord, TaskRecord, TaskStatus
from sandboxes.base import BackendUnavailable, SandboxBackend, SandboxError

MIN_ID_PREFIX = 4
"""The fewest characters of a task id that name it, unless the id itself is shorter."""
RESUMED_REASON = "the taskyard process running it stopped renewing its lease; taken up here"


def _new_task_id(store: Store) -> str:
    while True:
        task_id = secrets.token_hex(4)
        if store.get_task(task_id) is None:
            return task_id


class Engine:
    """Runs tasks in this process; everything is recorded in the store as it happens."""

    def __init__(
        self,
        paths: Paths | None = None,
        config: Config | None = None,
        backend: SandboxBackend | None = None,
        model: ModelClient | None = None,
    ) -> None:
        self.paths = (paths or default_paths()).ensure()
        self._config_from_file = config is None
        self.config = config if config is not None else load_config(self.paths)
        self.store = Store(self.paths.database)
        self.bus = EventBus(self.store)
        self.lifecycle = TaskLifecycle(self.store, self.bus)
        self.hosts = HostPool(self._hosts(backend))
        self._model = model
        self._running: dict[str, asyncio.Task[None]] = {}
        self._lease = Lease(self.store, busy=lambda: bool(self._running))

    def _hosts(self, backend: SandboxBackend | None) -> list[Host]:
        """The configured and discovered hosts; only `local`, on `backend`, when one is given."""
        if backend is not None:
            return [Host(HostSpec(LOCAL, "docker", backend.name, max_tasks=1_000), backend)]
        return [Host(spec) for spec in host_specs(self.config)]

    def host_states(self) -> dict[str, str]:
        """Each host's state as this process knows it, without reaching any: idle (not reached
        yet), connecting, connected, reconnecting or down."""
        return {name: host.state for name, host in self.hosts.hosts.items()}

    async def host_statuses(self) -> list[HostStatus]:
        """Every host, reached now, with its state and the tasks running on or waiting for it."""
        hosts = list(self.hosts.hosts.values())
        await asyncio.gather(*(probe(host) for host in hosts))
        active = self.store.tasks_in(ACTIVE)
        return [host_status(host, active) for host in hosts]

    async def check_host(self, name: str) -> list[HostCheck]:
        """Check the named host step by step: connection, Docker, the sandbox image."""
        try:
            host = self.hosts.get(name)
        except HostError as error:
            raise EngineError(str(error)) from None
        return await check_host(host, self.config.sandbox.image)

    async def reach_host(self, name: str) -> SandboxBackend:
        """The named host's backend, reached now; EngineError when unknown or unreachable."""
        try:
            return await self.hosts.get(name).connect()
        except HostError as error:
            raise EngineError(str(error)) from None

    async def doctor(self) -> list[HostCheck]:
        """What `taskyard doctor` checks here: the config this service runs with, every host
        (known_hosts, Docker, the sandbox image) and the model (its key, `GET /models`)."""
        in_use = config_in_use(self.paths, self.config) if self._config_from_file else None
        hosts = list(self.hosts.hosts.values())
        settings = self.model_settings
        return await run_checks(hosts, self.config, settings, in_use)

    def model_settings(self) -> ModelSettings:
        """How the model is reached: the config's endpoint and key (its reference resolved
        now), else the openai package's variables; ModelError when the reference gives none."""
        client = self.config.model_client
        return ModelSettings(
            model=self.config.model,
            wire_api=self.config.wire_api,
            api_key=self._api_key(),
            base_url=client.base_url,
            max_retries=client.max_retries,
            stream_idle_timeout=client.stream_idle_timeout_seconds,
            request_timeout=client.request_timeout_seconds,
        )

    def _api_key(self) -> str | None:
        reference = self.config.model_client.api_key
        if reference is None:
            return None
        try:
            return resolve_reference(API_KEY_KEY, reference)
        except SecretReferenceError as error:
            raise ModelError(str(error)) from None

    @property
    def model(self) -> ModelClient:
        """The model client, made on first use (ModelError when no API key is set)."""
        if self._model is None:
            self._model = make_model_client(self.model_settings())
        return self._model

    async def resume_tasks(self, stale_after: float = LEASE_SECONDS) -> list[str]:
        """Take up every active task whose owner's lease is older than `stale_after` seconds
        and run it on here; returns their ids.

        A queued task starts as usual; one stopped in provisioning or setup fails (setup is
        not run twice); one in its agent loop goes on in its container, its running command
        followed to its end. Each is claimed first, so no two engines take up the same task."""
        live = live_owners(self.store, stale_after)
        taken: list[str] = []
        for task in self.store.tasks_in(ACTIVE):
            if task.id in self._running or task.owner in live:
                continue
            last_seen = max(self.store.heartbeat(task.owner) or 0.0, task.updated)
            if not self.store.claim_task(task.id, task.owner, self._lease.claim()):
                continue
            self.bus.emit(TaskResumed(task_id=task.id, reason=RESUMED_REASON, last_seen=last_seen))
            self._take_up(self.task(task.id))
            taken.append(task.id)
        return taken

    def _take_up(self, record: TaskRecord) -> None:
        """Start a claimed task again: a queued one from the start, any other where it was.
        Without a model client (no API key) it fails, saying so."""
        try:
            run = self._task_run(record, pinned=record.host or None)
        except ModelError as error:
            self.lifecycle.move(record.id, TaskStatus.FAILED, str(error), error=str(error))
            return
        self._launch(record.id, run.run() if record.status == TaskStatus.QUEUED else run.resume())

    def image_for(self, request: TaskRequest) -> str:
        environment = self.config.environment(request.environment)
        return request.image or environment.image or self.config.sandbox.image

    async def preflight(self, request: TaskRequest) -> None:
        """Check what a task needs before it is recorded: model key, Docker, image, env and
        its secrets."""
        try:
            environment = self.config.environment(request.environment)
            await asyncio.to_thread(resolve_secrets, request.environment, environment)
            await asyncio.to_thread(lambda: self.model)
            image = self.image_for(request)
            await self._check_hosts(request.host, image)
        except (ConfigError, SecretReferenceError, ModelError, BackendUnavailable) as error:
            raise EngineError(str(error)) from None

    async def _check_hosts(self, pinned: str | None, image: str) -> None:
        """The pinned host, or at least one host, answers and has the image."""
        names = [pinned] if pinned is not None else list(self.hosts.hosts)
        problems: list[str] = []
        for name in names:
            try:
                problem = await self._host_problem(name, image)
            except (EngineError, SandboxError) as error:
                problem = str(error)
            if problem is None:
                return
            problems.append(problem)
        raise EngineError("; ".join(dict.fromkeys(problems)))

    async def _host_problem(self, name: str, image: str) -> str | None:
        """Why the named host cannot run the task: no image, or no [sandbox] runtime."""
        backend = await self.reach_host(name)
        if not await backend.has_image(image):
            return (
                f"image {image!r} not found on host {name}: build it with "
                f"`taskyard image build --host {name}`, or name another with --image"
            )
        runtime = self.config.sandbox.runtime
        if runtime is not None and runtime not in (installed := await backend.runtimes()):
            return runtime_missing(runtime, installed, name)
        return None

    async def uncommitted(self, repo: str) -> UncommittedWork:
        """The uncommitted changes of a local repository, which a task leaves out unless its
        request includes them; none for a URL."""
        return await asyncio.to_thread(gitops.uncommitted_work, repo)

    async def submit(self, request: TaskRequest) -> TaskRecord:
        """Record a new task and start it; returns at once. With several attempts, every one
        starts and the first is returned (`submit_attempts` returns them all)."""
        return (await self.submit_attempts(request))[0]

    async def submit_attempts(self, request: TaskRequest) -> list[TaskRecord]:
        """Record and start each attempt of the request, in attempt order; returns at once.

        A request that cannot run (an empty prompt, an unknown environment or host, no model
        key, a path that is not a git repository, a ref that names no commit) is refused with
        an EngineError before anything is recorded."""
        self._validate(request)
        await self._check_source(request)
        group_id = _new_task_id(self.store)
        records: list[TaskRecord] = []
        for attempt in range(1, request.attempts + 1):
            task_id = group_id if attempt == 1 else _new_task_id(self.store)
            records.append(self._queue(request, task_id, group_id, attempt))
        return records

    def _queue(self, request: TaskRequest, task_id: str, group_id: str, attempt: int) -> TaskRecord:
        """Record one attempt as queued, announce it and start it."""
        now = time.time()
        record = TaskRecord(
            id=task_id,
            created=now,
            updated=now,
            prompt=request.prompt,
            repo=self._normalise_repo(request.repo),
            ref=request.ref,
            mode=request.mode,
            environment=request.environment,
            image=self.image_for(request),
            status=TaskStatus.QUEUED,
            owner=self._lease.claim(),
            host=request.host or "",
            group_id=group_id,
            attempt=attempt,
            include_uncommitted=request.include_uncommitted,
        )
        self.store.insert_task(record)
        self.bus.emit(
            TaskQueued(
                task_id=record.id,
                prompt=record.prompt,
                repo=record.repo,
                ref=record.ref,
                mode=record.mode,
                environment=record.environment,
                image=record.image,
                group_id=group_id,
                attempt=attempt,
            )
        )
        self._start(record, pinned=request.host)
        return record

    def _validate(self, request: TaskRequest) -> None:
        if not request.prompt.strip():
            raise EngineError("the prompt is empty: say what the agent should do")
        if request.mode not in ("code", "ask"):
            raise EngineError(f"mode {request.mode!r} is not known: use code or ask")
        if not 1 <= request.attempts <= MAX_ATTEMPTS:
            raise EngineError(
                f"{request.attempts} attempts is not possible: ask for 1 to {MAX_ATTEMPTS}"
            )
        try:
            self.config.environment(request.environment)
            if request.host is not None:
                self.hosts.get(request.host)
            self.model  # noqa: B018
        except (ConfigError, HostError, ModelError) as error:
            raise EngineError(str(error)) from None

    @staticmethod
    async def _check_source(request: TaskRequest) -> None:
        """EngineError unless the request's repository and ref can be checked out."""
        try:
            await asyncio.to_thread(
                gitops.check_source, request.repo, request.ref, request.include_uncommitted
            )
        except gitops.GitError as error:
            raise EngineError(str(error)) from None

    @staticmethod
    def _normalise_repo(repo: str) -> str:
        if is_remote(repo):
            return repo
        return str(Path(repo).expanduser().resolve())

    def _start(
        self, record: TaskRecord, follow_up: str | None = None, pinned: str | None = None
    ) -> None:
        run = self._task_run(record, pinned)
        work = run.run() if follow_up is None else self._follow_up(run, follow_up)
        self._launch(record.id, work)

    def _task_run(self, record: TaskRecord, pinned: str | None = None) -> TaskRun:
        context = RunContext(self.config, self.paths, self.store, self.bus, self.hosts, self.model)
        return TaskRun(context, record, pinned)

    def _launch(self, task_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run a task's work as a job of this engine, until it ends."""
        job = asyncio.create_task(work, name=f"task-{task_id}")
        self._running[task_id] = job
        job.add_done_callback(lambda _: self._running.pop(task_id, None))

    async def _follow_up(self, run: TaskRun, prompt: str) -> None:
        """Run a follow-up turn; when it ends ready and the task has a pull request, push the
        new commits to it and refresh its description (a failure is recorded on the task)."""
        await run.follow_up(prompt)
        task = self.task(run.task.id)
        if not task.pr_number or task.status != TaskStatus.READY:
            return
        try:
            await self.open_pull_request(task.id)
        except EngineError as error:
            record_failure(self.bus, task.id, f"the pull request was not updated: {error}")

    async def open_pull_request(
        self, task_id: str, draft: bool = False, squash: bool = False, allow_unsafe: bool = False
    ) -> Delivery:
        """Push a ready task's branch to the repository's remote and open its pull request, or
        update the one it has; without a token, push and say where to open it by hand.

        With `squash`, one commit with the net change on the base is pushed instead of the
        task's commits. Refused like accepting: SecretInResult for a secret in any commit,
        UnsafeResult for a flagged change or kept commit unless `allow_unsafe`.
        """
        task = self.task(task_id)
        commands = self.store.commands(task.id)
        try:
            secrets = await asyncio.to_thread(self.task_secrets, task)
            plan = delivery_plan(
                task,
                commands,
                self.config,
                self.paths,
                draft,
                squash=squash,
                allow_unsafe=allow_unsafe,
                secrets=secrets,
            )
            delivery = await asyncio.to_thread(deliver, plan)
        except (DeliveryError, SecretReferenceError) as error:
            raise EngineError(str(error)) from None
        record_delivery(self.store, self.bus, task.id, delivery)
        return delivery

    def task_secrets(self, task: TaskRecord) -> list[Secret]:
        """The secrets of the task's environment, resolved now (blocks while a `cmd:` runs);
        none when the environment is no longer configured. SecretReferenceError when one
        cannot be resolved."""
        environment = self.config.environments.get(task.environment)
        return [] if environment is None else resolve_secrets(task.environment, environment)

    async def follow_up(self, task_id: str, prompt: str) -> TaskRecord:
        """Start a new turn of a finished task in its sandbox and branch; returns at once."""
        task = self.task(task_id)
        if not prompt.strip():
            raise EngineError("the follow-up is empty: say what the agent should do next")
        if task.status in ACTIVE:
            raise EngineError(f"task {task.id} is still {task.status}: wait for it to finish")
        await self.wait(task.id)
        if not task.sandbox_id:
            raise EngineError(f"task {task.id} has no sandbox to continue in: retry it instead")
        if not self._checked_out(task.id):
            raise EngineError(
                f"task {task.id} never got a checkout of its repository, so there is nothing "
                "to follow up: retry it instead (r on the board)"
            )
        try:
            self.model  # noqa: B018
        except ModelError as error:
            raise EngineError(str(error)) from None
        self.store.update_task(task.id, owner=self._lease.claim())
        self._start(self.task(task.id), follow_up=prompt)
        return self.task(task.id)

    def _checked_out(self, task_id: str) -> bool:
        """Whether the task's repository was checked out in its sandbox."""
        commands = self.store.commands(task_id)
        return any(command.phase == "checkout" and command.exit_code == 0 for command in commands)

    async def retry(self, task_id: str) -> TaskRecord:
        """Submit the same request again as a new task, checked first like a new one."""
        task = self.task(task_id)
        request = TaskRequest(
            prompt=task.prompt,
            repo=task.repo,
            ref=task.ref,
            environment=task.environment,
            mode="ask" if task.mode == "ask" else "code",
            image=task.image,
            include_uncommitted=task.include_uncommitted,
        )
        await self.preflight(request)
        return await self.submit(request)

    def archive(self, task_id: str, archived: bool = True) -> None:
        """Hide a task from the default listing (or bring it back); every client is told."""
        task = self.task(task_id)
        self.store.update_task(task.id, archived=int(archived))
        self.bus.emit(TaskArchived(task_id=task.id, archived=archived))

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        """Dollars spent on these tokens at the configured prices; None when unpriced."""
        return self.config.model_client.cost(input_tokens, output_tokens)

    def environments(self) -> list[str]:
        """Names of the configured environments, `default` included."""
        return sorted({"default", *self.config.environments})

    def subscribe(self, task_id: str | None = None) -> Subscription:
        """Events from now on, for one task or all."""
        return self.bus.subscribe(task_id)

    async def wait(self, task_id: str) -> TaskRecord:
        """Wait until the task is no longer running here; return its record."""
        job = self._running.get(task_id)
        if job is not None:
            await asyncio.shield(job)
        return self.task(task_id)

    async def cancel(self, task_id: str) -> None:
        """Cancel a running task; it is recorded as cancelled and its sandbox stopped."""
        task = self.task(task_id)
        job = self._running.get(task.id)
        if job is None:
            raise EngineError(f"task {task.id} is not running: it is {task.status}")
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)

    def running_tasks(self) -> list[str]:
        """Ids of the tasks this engine is running now."""
        return list(self._running)

    def abandon(self) -> None:
        """Give up this engine's tasks without ending them: its lease is dropped, so the next
        engine to open the store takes them up where they are (the process exits next)."""
        self._lease.drop()

    def task(self, task_id: str) -> TaskRecord:
        """A task by id, or by an unambiguous prefix of at least MIN_ID_PREFIX characters."""
        exact = self.store.get_task(task_id)
        if exact is not None:
            return exact
        if len(task_id) < MIN_ID_PREFIX:
            raise EngineError(
                f"task id {task_id!r} is too short: give at least {MIN_ID_PREFIX} characters "
                "of the task id (`taskyard tasks` lists them)"
            )
        matches = self.store.find_task(task_id)
        if not matches:
            raise EngineError(f"no task {task_id!r}: `taskyard tasks` lists them")
        if len(matches) > 1:
            ids = ", ".join(task.id for task in matches[:5])
            raise EngineError(f"task id {task_id!r} is ambiguous ({ids}): give more characters")
        return matches[0]

    def tasks(
        self,
        include_archived: bool = False,
        statuses: list[str] | None = None,
        repo: str | None = None,
        limit: int | None = None,
    ) -> list[TaskRecord]:
        """Tasks newest first, archived ones only with `include_archived`; only those of the
        named `statuses` and `repo` (a path or URL as the tasks were given it), at most
        `limit`. EngineError names a status that does not exist or a limit below 1."""
        known = [status.value for status in TaskStatus]
        unknown = [name for name in statuses or [] if name not in known]
        if unknown:
            raise EngineError(f"no status {unknown[0]!r}: use one of {', '.join(known)}")
        if limit is not None and limit < 1:
            raise EngineError(f"limit {limit}: list at least 1 task")
        chosen = [TaskStatus(name) for name in statuses or []]
        return self.store.list_tasks(include_archived, chosen, repo, limit)

    def attempts(self, task_id: str) -> list[TaskRecord]:
        """Every attempt of the task's request, in attempt order (just the task when alone)."""
        return self.store.group_tasks(self.task(task_id).group)

    def ranked_attempts(self, task_id: str) -> list[RankedAttempt]:
        """The attempts of the task's request, best first by evidence, each with its reasons."""
        return rank_attempts(self.attempts(task_id), self.store.commands, self.cost)

    def attempt(self, task_id: str, number: int | None = None) -> TaskRecord:
        """Attempt `number` of the task's request; the task itself when number is None."""
        if number is None:
            return self.task(task_id)
        attempts = self.attempts(task_id)
        if not 1 <= number <= len(attempts):
            count = f"{len(attempts)} attempt" + ("" if len(attempts) == 1 else "s")
            choice = "1" if len(attempts) == 1 else f"1 to {len(attempts)}"
            raise EngineError(
                f"task {attempts[0].group} has {count}, not an attempt {number}: choose {choice}"
            )
        return attempts[number - 1]

    def commands(self, task_id: str) -> list[CommandRecord]:
        return self.store.commands(self.task(task_id).id)

    def evidence(self, task_id: str) -> Evidence:
        """The checks the task ran with their stored exit codes, and what they say of its answer."""
        task = self.task(task_id)
        return evidence_for(task, self.store.commands(task.id))

    def events(self, task_id: str, until: float | None = None) -> list[Event]:
        """The task's recorded events in order, up to time `until` if given; command output
        is not among them (`read_output` has it)."""
        stored = self.store.events(self.task(task_id).id)
        known = (data for data in stored if data.get("type") in EVENT_TYPES)
        events = (event_from_dict(data) for data in known)
        return [event for event in events if until is None or event.ts <= until]

    def read_output(self, task_id: str, chunk_id: str) -> bytes:
        """The full stored output of one command."""
        record = self.store.get_command(self.task(task_id).id, chunk_id)
        if record is None:
            raise EngineError(f"task {task_id} has no command output {chunk_id!r}")
        try:
            return Path(record.log_path).read_bytes()
        except FileNotFoundError:
            raise EngineError(
                f"the output of command {chunk_id} of task {record.task_id} is no longer kept "
                "(`taskyard gc --all` removes archived tasks' logs)"
            ) from None

    async def read_file(self, task_id: str, path: str) -> str | None:
        """A repository file as the task left it (as it started, if there is no result yet);
        None when there is no such file."""
        task = self.task(task_id)
        bundle = Path(task.result_bundle) if task.result_bundle else None
        if bundle is not None and task.head_sha and bundle.exists():
            sha, result = task.head_sha, (bundle, task.branch)
        elif task.base_sha:
            sha, result = task.base_sha, None
        else:
            return None
        cache = self.paths.repo_cache_dir
        data = await asyncio.to_thread(gitops.read_file_at, task.repo, cache, sha, path, result)
        return None if data is None else data.decode("utf-8", errors="replace")

    async def result_files(self, task_id: str) -> list[FileDiff]:
        """The files and hunks of a task's result, as accepting sees them."""
        task = self.task(task_id)
        return await asyncio.to_thread(accept.result_files, task, self.paths.repo_cache_dir)

    async def chosen_patch(self, task_id: str, choice: Choice) -> str:
        """The patch of the chosen files and hunks, e.g. to edit before accepting it."""
        files = await self.result_files(task_id)
        return accept.chosen_patch(self.task(task_id), files, choice)

    async def accept(self, task_id: str, request: AcceptRequest | None = None) -> Accepted:
        """Accept a task's result, whole or in part, to a new branch or onto the working tree.

        Raises SecretInResult when any of its commits carries a secret value, UnsafeResult
        when the patch (or a commit kept on the branch) is flagged and not allowed, and
        WorktreeConflict, having changed nothing, when it does not apply cleanly onto the
        working tree.
        """
        task = self.task(task_id)
        cache = self.paths.repo_cache_dir
        accepted = await asyncio.to_thread(
            accept.accept_result, task, request or AcceptRequest(), cache
        )
        if task.status == TaskStatus.READY:
            self.lifecycle.move(task.id, TaskStatus.ACCEPTED)
        return accepted

    async def apply(
        self, task_id: str, repo: str | None = None, branch: str | None = None
    ) -> tuple[str, str]:
        """Bring a ready task's commits into a local repository as a new branch.

        Never touches the working tree or the current branch. Returns (branch, head sha).
        """
        accepted = await self.accept(task_id, AcceptRequest(repo=repo, branch=branch))
        return accepted.branch, accepted.sha

    async def send_back(self, task_id: str, rejected: Choice) -> TaskRecord:
        """Start a follow-up that quotes the `rejected` part of the result and asks the agent
        to rework it."""
        files = await self.result_files(task_id)
        quoted = rejected_prompt(choose(files, rejected, self.task(task_id).id))
        return await self.follow_up(task_id, quoted)

    async def build_image(
        self,
        tag: str | None = None,
        on_output: Callable[[bytes], None] | None = None,
        host: str = LOCAL,
    ) -> str:
        """Build the default sandbox image (or tag) on a host; returns the tag."""
        tag = tag or self.config.sandbox.image
        backend = await self.reach_host(host)
        try:
            await backend.build_image(tag, on_output)
        except SandboxError as error:
            raise EngineError(str(error)) from None
        return tag

    async def collect_garbage(self, dry_run: bool = False, with_files: bool = False) -> GcReport:
        """Remove, on every reachable host, the containers of tasks ended more than [gc]
        keep_hours ago, of archived tasks, and of no task in this store; with `with_files`,
        archived tasks' logs and result bundles too. Active tasks are never touched; with
        `dry_run` nothing is removed and the report says what would be."""
        collector = GarbageCollector(self.store, self.paths, self.hosts, self.config.gc.keep_hours)
        return await collector.collect(dry_run, with_files)

    async def close(self) -> None:
        """Cancel tasks still running (they are recorded as cancelled) and close the store."""
        for job in list(self._running.values()):
            job.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        await self._lease.release()
        if self._model is not None:
            await self._model.aclose()
        await self.hosts.close()
        self.store.close()
