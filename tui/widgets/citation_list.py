"""The answer's citations, each marked valid or not (invalid ones in bold error colour with
their reason); choosing one shows the cited lines."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.widgets.cited_lines import citation_label


def citations_title(citations: list[dict[str, Any]]) -> Content:
    """`Citations  1 of 4 invalid`, or how many were verified."""
    invalid = sum(1 for citation in citations if not citation.get("valid"))
    if not citations:
        return Content.styled("Citations", "bold")
    if invalid:
        summary = (f"{invalid} of {len(citations)} invalid", "$error bold")
    else:
        summary = (f"all {len(citations)} verified", "$success")
    return Content.assemble(("Citations", "bold"), "  ", summary)


class CitationList(OptionList):
    """One option per citation, in the order they appear in the answer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.citations: list[dict[str, Any]] = []

    def show(self, citations: list[dict[str, Any]]) -> None:
        self.citations = citations
        self.clear_options()
        self.add_options(
            Option(
                Content.styled(
                    citation_label(citation),
                    "$success" if citation.get("valid") else "$error bold",
                ),
                id=str(index),
            )
            for index, citation in enumerate(citations)
        )
        self.set_class(not citations, "-empty")
        if citations:
            self.highlighted = 0

    def citation_at(self, index: int) -> dict[str, Any]:
        return self.citations[index]
