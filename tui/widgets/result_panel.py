"""A task's result: changed files, checks, citations, the answer, the cited lines and the diff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, OptionList, Static

from engine.errors import EngineError
from engine.views import ACTIVE, CheckRun, Evidence, FileDiff, TaskRecord
from tui.commands.common import one_line
from tui.present import plain
from tui.widgets.answer_view import AnswerView
from tui.widgets.check_list import CheckList, checks_title, exit_text
from tui.widgets.citation_list import CitationList, citations_title
from tui.widgets.cited_lines import (
    change_lines,
    citation_label,
    file_section,
    hunk_lines,
    text_lines,
)
from tui.widgets.diff_view import DiffView
from tui.widgets.file_stats import FileStats
from tui.widgets.hunk_chooser import HunkChooser, hunk_content, shown

ReadOutput = Callable[[str], Awaitable[str]]
ReadFile = Callable[[str], Awaitable[str | None]]
ReadFiles = Callable[[], Awaitable[list[FileDiff]]]
OUTPUT_TAIL_LINES = 200
"""How many of a check's last output lines choosing it shows."""


class FilesLoaded(Message):
    """The result's files and hunks, read for the result at `head_sha` (or why they are not)."""

    def __init__(self, head_sha: str, files: list[FileDiff], error: str = "") -> None:
        super().__init__()
        self.head_sha = head_sha
        self.files = files
        self.error = error


class LinesRead(Message):
    """Lines read for the cited-lines area, for the citation or check last chosen."""

    def __init__(self, lines: Content) -> None:
        super().__init__()
        self.lines = lines


class ResultPanel(Horizontal):
    """Files, checks and citations on the left; the warning of an unsupported claim, answer,
    cited lines (or a check's output) and diff on the right.

    Tab walks its own ring: the files, the changes to accept, the checks, the citations, then
    the answer and diff (where focus starts), and round again; what is hidden or empty is
    left out.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "focus_step(1)", "Next", id="result.next", show=False),
        Binding("shift+tab", "focus_step(-1)", "Previous", id="result.previous", show=False),
    ]

    def __init__(
        self, read_output: ReadOutput, read_file: ReadFile, read_files: ReadFiles, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.read_output = read_output
        self.read_file = read_file
        self.read_files = read_files
        self.record: TaskRecord | None = None
        self.files_head: str | None = None
        self.chooser = HunkChooser(classes="hunk-chooser")

    def compose(self) -> ComposeResult:
        with Vertical(classes="result-side"):
            yield Label("Files", classes="section-title")
            yield FileStats(classes="file-stats")
            yield Label("Changes to accept", classes="section-title choose-title")
            yield self.chooser
            yield Static("", classes="choose-note")
            yield Label("Checks", classes="section-title checks-title")
            yield CheckList(classes="check-list")
            yield Label("Citations", classes="section-title citations-title")
            yield CitationList(classes="citation-list")
            yield Static("No citations in the answer.", classes="no-citations")
        with VerticalScroll(classes="result-main"):
            yield Static("", classes="result-note")
            yield Static("", classes="evidence-warning")
            yield Label("Answer", classes="section-title")
            yield AnswerView(classes="answer")
            yield Label("Cited lines", classes="section-title cited-title")
            yield Static("", classes="cited-lines")
            yield Label("Diff", classes="section-title")
            yield DiffView(classes="diff")

    def show(self, record: TaskRecord, evidence: Evidence) -> None:
        """Redraw from the task's record and the evidence behind it."""
        self.record = record
        running = record.status in ACTIVE
        note = "The task is running: this is its result so far." if running else ""
        if record.pr_url and not running:
            note = f"Pull request #{record.pr_number}: {plain(record.pr_url)}"
        self.query_one(".result-note", Static).update(Content.styled(note, "$text-muted"))
        self.set_class(running, "-running")
        self.query_one(FileStats).show(record.diff, record.mode)
        self.show_evidence(evidence)
        self.query_one(".citations-title", Label).update(citations_title(record.citations))
        self.query_one(CitationList).show(record.citations)
        self.set_class(not record.citations, "-no-citations")
        self.query_one(AnswerView).show(record.final_message, record.citations, record.error)
        self.query_one(DiffView).show(record.diff)
        self.set_class(True, "-nothing-cited")
        self.load_files(record)

    def load_files(self, record: TaskRecord) -> None:
        """Read the result's files and hunks for the chooser, once per result."""
        has_result = bool(record.result_bundle) and record.status not in ACTIVE
        self.set_class(not has_result, "-no-result")
        if not has_result and self.files_head is not None:
            self.files_head = None
            self.chooser.show_files([])
        if has_result and record.head_sha != self.files_head:
            self.files_head = record.head_sha
            self.query_one(".choose-note", Static).update(
                Content.styled("Reading the result…", "$text-muted")
            )
            self.run_worker(self.read_result(record.head_sha), group="hunks", exclusive=True)

    async def read_result(self, head_sha: str) -> None:
        try:
            files = await self.read_files()
        except EngineError as error:
            self.post_message(FilesLoaded(head_sha, [], str(error)))
            return
        self.post_message(FilesLoaded(head_sha, files))

    @on(FilesLoaded)
    def files_loaded(self, loaded: FilesLoaded) -> None:
        if loaded.head_sha != self.files_head:
            return
        self.chooser.show_files(loaded.files)
        self.screen.refresh_bindings()
        note = Content.styled(shown(loaded.error), "$error") if loaded.error else Content("")
        self.query_one(".choose-note", Static).update(note)

    @on(OptionList.OptionHighlighted, ".hunk-chooser")
    def hunk_highlighted(self, highlighted: OptionList.OptionHighlighted) -> None:
        """Show the highlighted hunk (or file) where cited lines go, while choosing."""
        if not self.chooser.has_focus:
            return
        file, hunk, number = self.chooser.hunk_at(highlighted.option_index)
        where = f"hunk {number}" if hunk is not None else file.kind
        self.query_one(".cited-title", Label).update(
            Content.assemble(("Change  ", "bold"), (f"{shown(file.path)}  {where}", "dim"))
        )
        self.set_class(False, "-nothing-cited")
        self.show_lines(hunk_content(file, hunk))

    def show_evidence(self, evidence: Evidence) -> None:
        """The checks with their marks, and the warning when the answer's claim is unsupported."""
        self.query_one(".checks-title", Label).update(checks_title(evidence))
        self.query_one(CheckList).show(evidence)
        warning = one_line(evidence.warning, 1000)
        self.query_one(".evidence-warning", Static).update(
            Content(f"⚠ Unsupported claim: {warning}")
        )
        self.set_class(bool(warning), "-unsupported-claim")

    def focus_answer(self) -> None:
        """Focus the answer and diff: what is read first; Tab goes on to the files."""
        self.query_one(".result-main", VerticalScroll).focus()

    def focus_ring(self) -> list[Widget]:
        """What Tab walks, in order, without what is hidden or cannot take focus."""
        ring: list[Widget] = [
            self.query_one(FileStats),
            self.chooser,
            self.query_one(CheckList),
            self.query_one(CitationList),
            self.query_one(".result-main", VerticalScroll),
        ]
        return [widget for widget in ring if widget.display and widget.focusable]

    def action_focus_step(self, step: int) -> None:
        """Focus the next (step 1) or previous (-1) part of the ring."""
        ring = self.focus_ring()
        focused = self.screen.focused
        index = ring.index(focused) if focused in ring else -1 if step > 0 else 0
        ring[(index + step) % len(ring)].focus()

    @on(OptionList.OptionHighlighted, ".file-stats")
    def file_highlighted(self, highlighted: OptionList.OptionHighlighted) -> None:
        """Show the highlighted file's change where cited lines go, while walking the files."""
        files = self.query_one(FileStats)
        if files.has_focus:
            self.show_change(files.path_at(highlighted.option_index))

    @on(OptionList.OptionSelected, ".file-stats")
    def file_selected(self, selected: OptionList.OptionSelected) -> None:
        self.show_change(self.query_one(FileStats).path_at(selected.option_index))
        self.scroll_to_cited()

    def show_change(self, path: str) -> None:
        """Every hunk of one file of the diff, where cited lines go."""
        self.query_one(".cited-title", Label).update(
            Content.assemble(("Change  ", "bold"), (f"{shown(path)}  whole file", "dim"))
        )
        self.set_class(False, "-nothing-cited")
        section = file_section(self.record.diff if self.record else "", path)
        if section is None:
            self.show_lines(Content.styled(f"The diff has no lines of {shown(path)}.", "$error"))
        else:
            self.show_lines(change_lines(section))

    @on(AnswerView.CitationFollowed)
    def citation_followed(self, followed: AnswerView.CitationFollowed) -> None:
        """A citation in the answer was clicked: choose it in the list and show its lines."""
        citations = self.query_one(CitationList)
        if followed.index < citations.option_count:
            citations.highlighted = followed.index
            self.show_cited(followed.index)
            self.scroll_to_cited()

    @on(OptionList.OptionHighlighted, ".citation-list")
    def citation_highlighted(self, highlighted: OptionList.OptionHighlighted) -> None:
        self.show_cited(int(highlighted.option_id or 0))

    @on(OptionList.OptionSelected, ".citation-list")
    def citation_selected(self, selected: OptionList.OptionSelected) -> None:
        self.show_cited(int(selected.option_id or 0))
        self.scroll_to_cited()

    @on(OptionList.OptionHighlighted, ".check-list")
    def check_highlighted(self, highlighted: OptionList.OptionHighlighted) -> None:
        self.show_check(self.query_one(CheckList).run_at(int(highlighted.option_id or 0)))

    @on(OptionList.OptionSelected, ".check-list")
    def check_selected(self, selected: OptionList.OptionSelected) -> None:
        self.show_check(self.query_one(CheckList).run_at(int(selected.option_id or 0)))
        self.scroll_to_cited()

    def show_check(self, run: CheckRun) -> None:
        """The last lines of a check's stored output where cited lines show."""
        self.query_one(".cited-title", Label).update(
            Content.assemble(
                ("Output  ", "bold"),
                (f"{run.chunk_id} {exit_text(run)}  ", "dim"),
                (one_line(run.command, 60), "dim"),
            )
        )
        self.set_class(False, "-nothing-cited")
        self.read_lines(self.check_tail(run.chunk_id))

    async def check_tail(self, chunk_id: str) -> Content:
        """The last lines of a command's stored output."""
        output = await self.read_output(chunk_id)
        count = len(output.splitlines())
        return text_lines(output, max(1, count - OUTPUT_TAIL_LINES + 1), count)

    def read_lines(self, lines: Awaitable[Content]) -> None:
        """Show `lines` once read (an error instead, when reading fails); a newer read
        replaces this one."""

        async def work() -> None:
            try:
                content = await lines
            except EngineError as error:
                content = Content.styled(str(error), "$error")
            self.post_message(LinesRead(content))

        self.run_worker(work(), group="cited", exclusive=True)

    @on(LinesRead)
    def lines_read(self, read: LinesRead) -> None:
        self.show_lines(read.lines)

    def scroll_to_cited(self) -> None:
        self.query_one(".result-main", VerticalScroll).scroll_to_widget(
            self.query_one(".cited-title", Label), top=True, animate=False
        )

    def show_cited(self, index: int) -> None:
        """Show the lines the index-th citation points at."""
        citation = self.query_one(CitationList).citation_at(index)
        self.query_one(".cited-title", Label).update(
            Content.assemble(("Cited lines  ", "bold"), (citation_label(citation), "dim"))
        )
        self.set_class(False, "-nothing-cited")
        start, end = int(str(citation["start"])), int(str(citation["end"]))
        target = str(citation["target"])
        if citation["kind"] != "file":
            self.read_lines(self.output_lines(target, start, end))
            return
        section = file_section(self.record.diff if self.record else "", target)
        hunks = hunk_lines(section, start, end) if section is not None else None
        if hunks is not None:
            self.show_lines(hunks)
        else:
            self.show_lines(Content.styled(f"Reading {target}…", "$text-muted"))
            self.read_lines(self.file_lines(target, start, end))

    def show_lines(self, lines: Content) -> None:
        self.query_one(".cited-lines", Static).update(lines)

    async def output_lines(self, chunk_id: str, start: int, end: int) -> Content:
        return text_lines(await self.read_output(chunk_id), start, end)

    async def file_lines(self, path: str, start: int, end: int) -> Content:
        """Lines of a file the task did not change, read from the task's tree."""
        text = await self.read_file(path)
        if text is None:
            return Content.styled(f"{path} is not in the task's tree.", "$error")
        return text_lines(text, start, end)
