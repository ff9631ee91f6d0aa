"""Deliver a task's result: push its branch to the repository's remote, open or update its pull
request, and record that on the task.

`deliver` blocks (git and HTTP): run it in a thread. `record_delivery` runs on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from engine.config import Config, ForgeConfig
from engine.delivery.forge import ForgeError, PullRequest, forge_client
from engine.delivery.forge_target import ForgeSetupError, ForgeTarget, find_token, forge_target
from engine.delivery.pr_text import pull_request_text
from engine.delivery.push import base_branch, push_result, remote_url
from engine.diff.patchset import parse_patch
from engine.git.gitops import GitError
from engine.git.host_result import cached_result, check_delivery, squash_message
from engine.paths import Paths
from engine.record.bus import EventBus
from engine.record.lifecycle import TaskLifecycle
from engine.record.store import Store
from engine.secrets.values import Redactor, Secret
from engine.views.accept import Action, Delivery
from engine.views.events import PullRequestChanged
from engine.views.request import is_remote
from engine.views.task import ACTIVE, REVIEWABLE, CommandRecord, TaskRecord, TaskStatus


class DeliveryError(Exception):
    """The branch could not be pushed or its pull request opened; the message says what to
    do."""


@dataclass(frozen=True)
class DeliveryPlan:
    """Everything `deliver` needs, as plain values, so it can run in a thread."""

    record: TaskRecord
    commands: list[CommandRecord]
    forge: ForgeConfig
    config_file: Path
    cache_dir: Path
    draft: bool = False
    squash: bool = False
    """Push one commit with the net change on the base instead of the task's commits."""
    allow_unsafe: bool = False
    """The person confirmed a result the safety check flags."""
    secrets: tuple[Secret, ...] = ()
    """The task environment's secrets, redacted from the pull request's text."""


def delivery_plan(
    record: TaskRecord,
    commands: list[CommandRecord],
    config: Config,
    paths: Paths,
    draft: bool = False,
    *,
    squash: bool = False,
    allow_unsafe: bool = False,
    secrets: Sequence[Secret] = (),
) -> DeliveryPlan:
    """The plan to deliver a task's result; DeliveryError when it has none to deliver."""
    if record.mode == "ask":
        raise DeliveryError(f"task {record.id} is an ask-mode task: it has no changes to push")
    if record.status in ACTIVE:
        raise DeliveryError(f"task {record.id} is still {record.status}: wait for it to finish")
    if record.status not in REVIEWABLE:
        raise DeliveryError(
            f"task {record.id} is {record.status}: only a ready task's result becomes a pull "
            "request (follow up or retry it first)"
        )
    if not record.result_bundle or not Path(record.result_bundle).exists():
        raise DeliveryError(f"task {record.id} has no result to push")
    return DeliveryPlan(
        record,
        commands,
        config.forge,
        paths.config_file,
        paths.repo_cache_dir,
        draft,
        squash,
        allow_unsafe,
        tuple(secrets),
    )


def deliver(plan: DeliveryPlan) -> Delivery:
    """Check the task's result, push its branch, then open its pull request, or update the one
    it has. SecretInResult or UnsafeResult when the result may not be pushed as asked."""
    record = plan.record
    bundle = Path(record.result_bundle)
    try:
        result = cached_result(record, plan.cache_dir, bundle)
        delivered = parse_patch(result.diff)
        found = check_delivery(record, result, delivered, not plan.squash, plan.allow_unsafe)
        url = remote_url(record.repo, plan.forge.remote)
        push_to = url if is_remote(record.repo) else plan.forge.remote
        target = forge_target(plan.forge, url, plan.config_file)
        squash = squash_message(record, result) if plan.squash else ""
        pushed_result = (bundle, record.branch, record.base_sha)
        sha = push_result(record.repo, plan.cache_dir, pushed_result, push_to, squash)
    except (GitError, ForgeSetupError) as error:
        raise DeliveryError(str(error)) from None
    pushed = Delivery("pushed", record.branch, push_to, sha, target.kind, "", findings=found)
    plan = replace(plan, record=replace(record, head_sha=sha))
    try:
        return _pull_request(plan, target, pushed)
    except (GitError, ForgeError) as error:
        raise DeliveryError(f"{record.branch} is pushed to {push_to}, but {error}") from None


def _pull_request(plan: DeliveryPlan, target: ForgeTarget, pushed: Delivery) -> Delivery:
    record = plan.record
    token = find_token(target)
    updating = bool(record.pr_number) and record.pr_forge == target.kind
    base, note = "", ""
    if not (updating and token):
        base, note = base_branch(record.repo, pushed.remote, record.ref)
    if not token:
        token_note = f"no {target.label} token: {target.token_help}"
        if updating:
            return replace(pushed, url=record.pr_url, number=record.pr_number, note=token_note)
        url = target.new_request_url(base, record.branch)
        return replace(pushed, url=url, note="; ".join(filter(None, (note, token_note))))
    text = pull_request_text(record, plan.commands, target, base, plan.draft)
    text = Redactor(plan.secrets).redact_fields(text)
    client = forge_client(target, token)
    if updating:
        return _with_request(pushed, client.update(record.pr_number, text), "updated", note)
    request, new = client.open(text)
    return _with_request(pushed, request, "opened" if new else "updated", note)


def _with_request(pushed: Delivery, request: PullRequest, action: Action, note: str) -> Delivery:
    return replace(
        pushed,
        action=action,
        url=request.url,
        number=request.number,
        state=request.state,
        note=note,
    )


def record_delivery(store: Store, bus: EventBus, task_id: str, delivery: Delivery) -> None:
    """Store the pull request on the task, announce it, and mark the task pr-opened."""
    if delivery.number:
        store.update_task(
            task_id, pr_url=delivery.url, pr_number=delivery.number, pr_forge=delivery.forge
        )
    bus.emit(
        PullRequestChanged(
            task_id=task_id,
            action=delivery.action,
            url=delivery.url,
            number=delivery.number,
            detail=delivery.note,
        )
    )
    task = store.get_task(task_id)
    if delivery.number and task is not None and task.status != TaskStatus.PR_OPENED:
        TaskLifecycle(store, bus).move(task_id, TaskStatus.PR_OPENED)


def record_failure(bus: EventBus, task_id: str, error: str) -> None:
    """Record on the task that updating its pull request failed."""
    bus.emit(PullRequestChanged(task_id=task_id, action="failed", detail=error))
