"""The top of a task tab: its title, then id, status, repository, mode, environment, branch."""

from __future__ import annotations

from textual.content import Content

from engine.views import REVIEWABLE, TaskRecord, TaskStatus
from tui.present import plain
from tui.widgets.fixed_static import FixedStatic
from tui.widgets.task_row import repo_name, task_title

STATUS_STYLES = {**dict.fromkeys(REVIEWABLE, "$success"), TaskStatus.FAILED: "$error"}


class TaskHeader(FixedStatic):
    """Two lines about one task, redrawn from its record when they change; `attempts` counts
    its request's. Its height is fixed (two lines), so a change needs no layout of the
    screen, which a header in a hidden tab would otherwise cost at every event."""

    def __init__(self, attempts: int = 1, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.attempts = attempts

    def show(self, record: TaskRecord) -> None:
        status_style = STATUS_STYLES.get(record.status, "bold")
        details = [
            f"task {record.id}",
            f"{repo_name(record.repo)}@{record.ref or 'HEAD'}",
            "local",
            f"{record.mode} mode",
            f"env {record.environment}",
        ]
        if self.attempts > 1:
            details.insert(1, f"attempt {record.attempt} of {self.attempts}")
        if record.branch:
            details.append(f"branch {record.branch}")
        content = Content.assemble(
            (task_title(record.prompt), "bold"),
            "\n",
            (record.status, status_style),
            ("  ·  " + plain("  ·  ".join(details)), "dim"),
        )
        self.show_content(content)
