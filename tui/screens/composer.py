"""The new-task composer: prompt, repository and ref, environment, host, mode and attempts, and
whether the repository's uncommitted changes go in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from engine.errors import EngineError
from engine.views import MAX_ATTEMPTS, Mode, TaskRecord, TaskRequest, UncommittedWork, is_remote
from tui.present import plain

ANY_HOST = "any"
KEYS_HINT = "ctrl+s start  ·  escape cancel"
ATTEMPTS_NOTE = (
    f"Attempts: 1 to {MAX_ATTEMPTS} run in parallel, each in its own sandbox, "
    "then ranked by evidence (checks passing, diff size, cost)."
)


UNCOMMITTED_DELAY = 0.3
"""Seconds the repository field rests before its uncommitted changes are looked up."""
Lookup = Callable[[str], Awaitable[UncommittedWork]]


def uncommitted_note(work: UncommittedWork, included: bool) -> str:
    """What becomes of the uncommitted changes, beside the toggle: the meaning first, so that
    a narrow dialog cuts only the paths."""
    if included:
        return f"go in as a commit on HEAD: {work.counted('')}"
    return f"⚠ not part of the task: {work.counted('')}"


class UncommittedFound(Message):
    """The uncommitted changes of the repository the composer names."""

    def __init__(self, repo: str, work: UncommittedWork) -> None:
        super().__init__()
        self.repo = repo
        self.work = work


@dataclass(frozen=True)
class ComposerDefaults:
    """What the composer starts with: the board's repository, or the last task's choices."""

    repo: str
    ref: str = ""
    environment: str = "default"
    mode: Mode = "code"


class ComposerScreen(ModalScreen[list[TaskRecord] | None]):
    """A modal form; `ctrl+s` starts the task and closes it with its attempts' records."""

    CSS_PATH = "../styles/composer.tcss"
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (32, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+s",
            "submit",
            "Start task",
            id="composer.submit",
            tooltip="Check what the task needs, then start it",
        ),
        Binding(
            "escape", "cancel", "Cancel", id="composer.cancel", tooltip="Close without starting"
        ),
    ]

    busy: reactive[bool] = reactive(False, toggle_class="-busy")
    error: reactive[str] = reactive("")
    uncommitted: reactive[UncommittedWork] = reactive(UncommittedWork)

    def __init__(
        self,
        defaults: ComposerDefaults,
        environments: list[str],
        hosts: list[str],
        submit: Callable[[TaskRequest], Awaitable[list[TaskRecord]]],
        lookup: Lookup | None = None,
    ) -> None:
        super().__init__()
        self.defaults = defaults
        self.environments = environments
        self.hosts = [ANY_HOST, *hosts]
        self.submit = submit
        self.lookup = lookup
        """Finds a repository's uncommitted changes; None to not look."""

    def compose(self) -> ComposeResult:
        defaults = self.defaults
        environment = defaults.environment
        if environment not in self.environments:
            environment = self.environments[0]
        with VerticalScroll(id="composer", classes="dialog"):
            yield Label("New task", classes="dialog-title")
            yield Static("", id="composer-error", classes="dialog-error")
            yield TextArea(id="prompt", soft_wrap=True, tab_behavior="focus")
            with Grid(id="fields"):
                yield Label("Repository")
                yield Input(defaults.repo, id="repo")
                yield Label("Ref")
                yield Input(defaults.ref, placeholder="HEAD", id="ref")
                yield Label("Environment")
                yield Select.from_values(
                    self.environments, value=environment, allow_blank=False, id="environment"
                )
                yield Label("Host")
                yield Select.from_values(self.hosts, value=ANY_HOST, allow_blank=False, id="host")
                yield Label("Mode")
                yield Select(
                    [("code", "code"), ("ask (answer only)", "ask")],
                    value=defaults.mode,
                    allow_blank=False,
                    id="mode",
                )
                yield Label("Attempts")
                yield Input("1", type="integer", id="attempts")
            with Horizontal(id="uncommitted-row"):
                yield Checkbox("Include uncommitted changes", id="uncommitted")
                yield Static("", id="uncommitted-note", markup=False)
            yield Static(ATTEMPTS_NOTE, id="attempts-note")
            yield Static(KEYS_HINT, id="composer-keys", classes="dialog-keys")

    def on_mount(self) -> None:
        """Focus the prompt now, not after the keys already queued for this screen."""
        self.set_focus(self.query_one("#prompt", TextArea))
        self.look_up_uncommitted(wait=False)

    def look_up_uncommitted(self, wait: bool = True) -> None:
        """Look up the uncommitted changes of the repository field's repository in a worker,
        once the field has rested; the answer comes back as UncommittedFound."""
        if self.lookup is None:
            return
        lookup, repo = self.lookup, self.repo()

        async def work() -> None:
            if wait:
                await asyncio.sleep(UNCOMMITTED_DELAY)
            try:
                found = await lookup(repo)
            except EngineError:
                found = UncommittedWork()
            self.post_message(UncommittedFound(repo, found))

        self.run_worker(work(), group="uncommitted", exclusive=True)

    @on(UncommittedFound)
    def uncommitted_found(self, found: UncommittedFound) -> None:
        if found.repo == self.repo():
            self.uncommitted = found.work

    def watch_uncommitted(self, work: UncommittedWork) -> None:
        self.set_class(bool(work), "-uncommitted")
        self.show_uncommitted_note()

    @on(Checkbox.Changed, "#uncommitted")
    def show_uncommitted_note(self) -> None:
        included = self.query_one("#uncommitted", Checkbox).value
        note = uncommitted_note(self.uncommitted, included) if self.uncommitted else ""
        self.query_one("#uncommitted-note", Static).update(plain(note))
        self.query_one("#uncommitted-note").set_class(not included, "-warning")

    def repo(self) -> str:
        """The repository field, a local path made absolute (the service's cwd is not ours)."""
        repo = self.query_one("#repo", Input).value.strip() or "."
        return repo if is_remote(repo) else str(Path(repo).expanduser().absolute())

    def watch_busy(self, busy: bool) -> None:
        hint = "Checking Docker, the image and the model, then starting…" if busy else KEYS_HINT
        self.query_one("#composer-keys", Static).update(hint)

    def watch_error(self, error: str) -> None:
        self.query_one("#composer-error", Static).update(error)
        self.set_class(bool(error), "-error")

    def request(self) -> TaskRequest:
        """The task as filled in; EngineError says what to fix."""
        prompt = self.query_one("#prompt", TextArea).text
        if not prompt.strip():
            raise EngineError("Write a prompt: what should the agent do?")
        mode = self.query_one("#mode", Select).value
        host = str(self.query_one("#host", Select).value)
        include = self.query_one("#uncommitted", Checkbox).value and bool(self.uncommitted)
        return TaskRequest(
            prompt=prompt,
            repo=self.repo(),
            ref=self.query_one("#ref", Input).value.strip() or None,
            environment=str(self.query_one("#environment", Select).value),
            mode="ask" if mode == "ask" else "code",
            host=None if host == ANY_HOST else host,
            attempts=self.attempts(),
            include_uncommitted=include,
        )

    def attempts(self) -> int:
        """The attempts field as a number; EngineError unless it is 1 to MAX_ATTEMPTS."""
        text = self.query_one("#attempts", Input).value.strip() or "1"
        count = int(text) if text.isdigit() else 0
        if not 1 <= count <= MAX_ATTEMPTS:
            raise EngineError(f"Attempts must be 1 to {MAX_ATTEMPTS}, not {text}.")
        return count

    async def action_submit(self) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            records = await self.submit(self.request())
        except EngineError as error:
            self.error = str(error)
            return
        finally:
            self.busy = False
        self.dismiss(records)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(TextArea.Changed)
    @on(Input.Changed)
    def clear_error(self) -> None:
        self.error = ""

    @on(Input.Changed, "#repo")
    def repo_changed(self) -> None:
        self.look_up_uncommitted()
