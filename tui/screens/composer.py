"""The new-task composer: prompt, repository and ref, environment, host, mode and attempts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static, TextArea

from engine.errors import EngineError
from engine.views.request import MAX_ATTEMPTS, Mode, TaskRequest
from engine.views.task import TaskRecord

ANY_HOST = "any"
KEYS_HINT = "ctrl+s start  ·  escape cancel"
ATTEMPTS_NOTE = (
    f"Attempts: 1 to {MAX_ATTEMPTS} run in parallel, each in its own sandbox, "
    "then ranked by evidence (checks passing, diff size, cost)."
)


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

    def __init__(
        self,
        defaults: ComposerDefaults,
        environments: list[str],
        hosts: list[str],
        submit: Callable[[TaskRequest], Awaitable[list[TaskRecord]]],
    ) -> None:
        super().__init__()
        self.defaults = defaults
        self.environments = environments
        self.hosts = [ANY_HOST, *hosts]
        self.submit = submit

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
            yield Static(ATTEMPTS_NOTE, id="attempts-note")
            yield Static(KEYS_HINT, id="composer-keys", classes="dialog-keys")

    def on_mount(self) -> None:
        """Focus the prompt now, not after the keys already queued for this screen."""
        self.set_focus(self.query_one("#prompt", TextArea))

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
        return TaskRequest(
            prompt=prompt,
            repo=self.query_one("#repo", Input).value.strip() or ".",
            ref=self.query_one("#ref", Input).value.strip() or None,
            environment=str(self.query_one("#environment", Select).value),
            mode="ask" if mode == "ask" else "code",
            host=None if host == ANY_HOST else host,
            attempts=self.attempts(),
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
