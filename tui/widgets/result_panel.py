"""A task's result: changed files, citations, the answer, the cited lines and the diff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, OptionList, Static

from engine.api import EngineError
from engine.states import ACTIVE, TaskStatus
from engine.store import TaskRecord
from tui.widgets.answer_view import AnswerView
from tui.widgets.citation_list import CitationList
from tui.widgets.cited_lines import citation_label, file_section, hunk_lines, text_lines
from tui.widgets.diff_view import DiffView
from tui.widgets.file_stats import FileStats

ReadOutput = Callable[[str], str]
ReadFile = Callable[[str], Awaitable[str | None]]


class ResultPanel(Horizontal):
    """Files and citations on the left; answer, cited lines and diff on the right."""

    def __init__(self, read_output: ReadOutput, read_file: ReadFile, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.read_output = read_output
        self.read_file = read_file
        self.record: TaskRecord | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="result-side"):
            yield Label("Files", classes="section-title")
            yield FileStats(classes="file-stats")
            yield Label("Citations", classes="section-title")
            yield CitationList(classes="citation-list")
            yield Static("No citations in the answer.", classes="no-citations")
        with VerticalScroll(classes="result-main"):
            yield Static("", classes="result-note")
            yield Label("Answer", classes="section-title")
            yield AnswerView(classes="answer")
            yield Label("Cited lines", classes="section-title cited-title")
            yield Static("", classes="cited-lines")
            yield Label("Diff", classes="section-title")
            yield DiffView(classes="diff")

    def show(self, record: TaskRecord) -> None:
        """Redraw from the task's record."""
        self.record = record
        running = TaskStatus(record.status) in ACTIVE
        note = "The task is running: this is its result so far." if running else ""
        self.query_one(".result-note", Static).update(Content.styled(note, "$text-muted"))
        self.set_class(running, "-running")
        self.query_one(FileStats).show(record.diff, record.mode)
        self.query_one(CitationList).show(record.citations)
        self.set_class(not record.citations, "-no-citations")
        self.query_one(AnswerView).show(record.final_message, record.citations, record.error)
        self.query_one(DiffView).show(record.diff)
        self.set_class(True, "-nothing-cited")

    def focus_citations(self) -> None:
        """Focus the citations, or the answer and diff when there are none."""
        citations = self.query_one(CitationList)
        if citations.option_count:
            citations.focus()
        else:
            self.query_one(".result-main", VerticalScroll).focus()

    @on(OptionList.OptionHighlighted, ".citation-list")
    def citation_highlighted(self, highlighted: OptionList.OptionHighlighted) -> None:
        self.show_cited(int(highlighted.option_id or 0))

    @on(OptionList.OptionSelected, ".citation-list")
    def citation_selected(self, selected: OptionList.OptionSelected) -> None:
        self.show_cited(int(selected.option_id or 0))
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
            self.show_lines(self.output_lines(target, start, end))
            return
        section = file_section(self.record.diff if self.record else "", target)
        hunks = hunk_lines(section, start, end) if section is not None else None
        if hunks is not None:
            self.show_lines(hunks)
        else:
            self.show_lines(Content.styled(f"Reading {target}…", "$text-muted"))
            self.run_worker(self.show_file_lines(target, start, end), group="cited", exclusive=True)

    def show_lines(self, lines: Content) -> None:
        self.query_one(".cited-lines", Static).update(lines)

    def output_lines(self, chunk_id: str, start: int, end: int) -> Content:
        try:
            output = self.read_output(chunk_id)
        except EngineError as error:
            return Content.styled(str(error), "$error")
        return text_lines(output, start, end)

    async def show_file_lines(self, path: str, start: int, end: int) -> None:
        """A file the task did not change, read from the task's tree."""
        text = await self.read_file(path)
        if text is None:
            self.show_lines(Content.styled(f"{path} is not in the task's tree.", "$error"))
        else:
            self.show_lines(text_lines(text, start, end))
