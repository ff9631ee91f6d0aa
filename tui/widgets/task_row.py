"""One task as a board row: its record, live token counts, and how its cells read."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.text import Text

from engine.views import ACTIVE, CONCERN, REVIEWABLE, FileStat, TaskRecord, TaskStatus, diff_stat
from tui.present import plain

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STATUS_ORDER = list(TaskStatus)
TITLE_WIDTH = 34
REPO_WIDTH = 14
NO_VALUE = "—"


@dataclass(frozen=True)
class RowColours:
    """Theme colours for meaning: success, warning and error."""

    success: str
    warning: str
    error: str


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def task_title(prompt: str) -> str:
    """The first non-empty line of a prompt, safe for the terminal."""
    lines = plain(prompt).strip().splitlines()
    return lines[0].strip() if lines else "(no prompt)"


def repo_name(repo: str) -> str:
    """The last part of a path or URL, without `.git`."""
    return posixpath.basename(repo.rstrip("/")).removesuffix(".git") or repo


def format_duration(seconds: float) -> str:
    """12s, 3m04s, 2h05m."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_age(seconds: float) -> str:
    """The largest whole unit: 40s, 12m, 3h, 5d."""
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def format_count(count: int) -> str:
    """340, 1.2k, 3.4M."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


Price = Callable[[int, int], float | None]
"""Dollars for (input, output) tokens, or None when no prices are configured."""


def format_cost(dollars: float | None) -> str:
    if dollars is None:
        return NO_VALUE
    return f"${dollars:.2f}" if dollars < 100 else f"${dollars:.0f}"


@dataclass
class TaskRow:
    """A task on the board; `live_*` count tokens of turns seen before the task finished.

    `group_size` and `group_created` are the board's count of the attempts of the task's
    request and when the first was created, so attempts sort together and show `K/N`."""

    record: TaskRecord
    live_input_tokens: int = 0
    live_output_tokens: int = 0
    base_usage: dict[str, int] = field(default_factory=dict)
    file_stats: list[FileStat] = field(default_factory=list)
    group_size: int = 1
    group_created: float = 0.0

    def __post_init__(self) -> None:
        self.file_stats = diff_stat(self.record.diff)
        self.group_created = self.record.created

    def update(self, record: TaskRecord) -> None:
        if record.diff != self.record.diff:
            self.file_stats = diff_stat(record.diff)
        self.record = record

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def title(self) -> str:
        return task_title(self.record.prompt)

    def title_cell(self, width: int) -> Text:
        """The title in `width` cells, after `K/N` when the task is attempt K of N."""
        if self.group_size == 1:
            return Text(shorten(self.title, width))
        attempt = f"{self.record.attempt}/{self.group_size} "
        title = shorten(self.title, width - len(attempt))
        return Text.assemble((attempt, "bold"), title)

    @property
    def is_active(self) -> bool:
        return self.record.status in ACTIVE

    def elapsed(self, now: float) -> float:
        end = now if self.is_active else self.record.updated
        return end - self.record.created

    def begin_turns(self) -> None:
        """A follow-up starts: live counts add to what the task had spent so far."""
        self.base_usage = dict(self.record.usage)
        self.live_input_tokens = self.live_output_tokens = 0

    def tokens(self) -> tuple[int, int]:
        """(input, output) tokens: the recorded total, plus live turns while active."""
        usage = self.base_usage if self.is_active else self.record.usage
        input_tokens, output_tokens = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
        if self.is_active:
            return input_tokens + self.live_input_tokens, output_tokens + self.live_output_tokens
        return input_tokens, output_tokens

    def cells(
        self, now: float, colours: RowColours, price: Price, title_width: int = TITLE_WIDTH
    ) -> dict[str, str | Text]:
        """Every column's cell, by column key."""
        record = self.record
        return {
            "title": self.title_cell(title_width),
            "repo": Text(shorten(f"{repo_name(record.repo)}@{record.ref or 'HEAD'}", REPO_WIDTH)),
            "host": Text(record.host or "any"),
            "mode": record.mode,
            "status": self.status_cell(now, colours),
            "tokens": self.tokens_cell(),
            "cost": format_cost(price(*self.tokens())),
            "diff": self.diff_cell(colours),
            "evidence": self.evidence_cell(colours),
            "age": self.age_cell(now),
        }

    def age_cell(self, now: float) -> Text:
        return Text(format_age(now - self.record.created), style="dim")

    def status_cell(self, now: float, colours: RowColours) -> Text:
        status = self.record.status
        elapsed = format_duration(self.elapsed(now))
        if self.is_active:
            spinner = SPINNER[int(now * 10) % len(SPINNER)]
            return Text(f"{spinner} {status} {elapsed}")
        if status in REVIEWABLE and self.record.verdict.startswith(CONCERN):
            return Text.assemble((f"{CONCERN} ", colours.warning), status, (f" {elapsed}", "dim"))
        if status in REVIEWABLE:
            return Text.assemble(("✓ ", colours.success), status, (f" {elapsed}", "dim"))
        if status == TaskStatus.FAILED:
            return Text.assemble((f"✗ {status}", colours.error), (f" {elapsed}", "dim"))
        return Text(f"■ {status} {elapsed}", style="dim")

    def tokens_cell(self) -> str:
        input_tokens, output_tokens = self.tokens()
        if not input_tokens and not output_tokens:
            return NO_VALUE
        return f"{format_count(input_tokens)}/{format_count(output_tokens)}"

    def evidence_cell(self, colours: RowColours) -> str | Text:
        """The evidence's verdict: a concern in the warning colour, passing checks in green."""
        verdict = self.record.verdict
        if not verdict:
            return NO_VALUE
        return Text(
            verdict, style=colours.warning if verdict.startswith(CONCERN) else colours.success
        )

    def diff_cell(self, colours: RowColours) -> str | Text:
        if not self.file_stats:
            return NO_VALUE
        added = sum(stat.added for stat in self.file_stats)
        removed = sum(stat.removed for stat in self.file_stats)
        return Text.assemble((f"+{added}", colours.success), " ", (f"-{removed}", colours.error))

    def sort_key(self, order: str) -> tuple[object, ...]:
        if order == "status":
            return (STATUS_ORDER.index(self.record.status), -self.record.created)
        if order == "title":
            return (self.title.lower(), self.record.created)
        return (-self.group_created, self.record.attempt)
