"""The test and check commands the agent ran, each marked pass or fail from its stored exit code;
choosing one shows its output."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import BindingType
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from engine.views import CheckRun, Evidence
from tui.commands.common import one_line
from tui.widgets.log_request import OPEN_LOG, LogWanted

COMMAND_WIDTH = 36
MARKS = {"pass": "✓", "fail": "✗", "timeout": "✗", "unfinished": "?"}
STYLES = {"pass": "$success", "fail": "$error", "timeout": "$error", "unfinished": "$warning"}


def exit_text(run: CheckRun) -> str:
    """`exit 1`, `timeout`, or `unfinished`: what the store recorded."""
    if run.timed_out:
        return "timeout" if run.exit_code is None else f"timeout, exit {run.exit_code}"
    return "unfinished" if run.exit_code is None else f"exit {run.exit_code}"


def check_label(run: CheckRun, last: bool) -> Content:
    """Two lines: `✗ fail exit 1  c0ffee01  last run`, then the command. Earlier runs of a
    command are dimmed: the last run is the one that counts."""
    outcome = f"{MARKS[run.outcome]} {run.outcome} {exit_text(run)}"
    label = Content.assemble(
        (outcome, f"{STYLES[run.outcome]} bold" if last else ""),
        "  ",
        (run.chunk_id, "dim"),
        "  ",
        "last run" if last else "earlier run",
        "\n  ",
        (one_line(run.command, COMMAND_WIDTH), "dim"),
    )
    return label if last else label.stylize("dim")


def checks_title(evidence: Evidence) -> Content:
    """`Checks  1 of 2 failing`: what the last run of each command says."""
    latest = evidence.latest
    failing = sum(1 for run in latest if not run.passed)
    if not latest:
        summary = ("none ran", "$text-muted")
    elif failing:
        summary = (f"{failing} of {len(latest)} failing", "$error")
    else:
        summary = ("all pass" if len(latest) > 1 else "passing", "$success")
    return Content.assemble(("Checks", "bold"), "  ", summary)


def check_title(run: CheckRun) -> Content:
    """`✗ exit 1  python3 -m unittest`: the run on one line, for the log view."""
    outcome = f"{MARKS[run.outcome]} {exit_text(run)}"
    return Content.assemble((outcome, STYLES[run.outcome]), "  ", one_line(run.command, 80))


class CheckList(OptionList):
    """One option per check run, in the order they ran; `o` asks for the highlighted run's
    whole output."""

    BINDINGS: ClassVar[list[BindingType]] = [OPEN_LOG]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: list[CheckRun] = []

    def show(self, evidence: Evidence) -> None:
        self.runs = evidence.checks
        latest = {run.chunk_id for run in evidence.latest}
        self.clear_options()
        self.add_options(
            Option(check_label(run, run.chunk_id in latest), id=str(index))
            for index, run in enumerate(self.runs)
        )
        self.set_class(not self.runs, "-empty")

    def on_focus(self) -> None:
        """Coming to the list highlights its first run, so `o` has a run to open."""
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def run_at(self, index: int) -> CheckRun:
        return self.runs[index]

    def action_open_log(self) -> None:
        if self.highlighted is not None:
            run = self.run_at(self.highlighted)
            self.post_message(LogWanted(run.chunk_id, check_title(run)))
