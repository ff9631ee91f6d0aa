"""The answer as Markdown: citations become taskyard's links with their verdicts; the answer's
own links, images and HTML stay text, so nothing it writes passes for a checked citation."""

from __future__ import annotations

from markdown_it.token import Token

from tui.widgets.answer_view import answer_parser, citation_verdicts, code_block

ANSWER = (
    "## Fix\n\nFixed `add` 【F:calc.py†L1-L2】, see 【F:gone.py†L3】 ✓ and "
    "[docs](https://evil.example) ![x](http://e/x.png) <b>bold</b> <https://e.example>\n\n"
    "```\n【F:calc.py†L1-L2】 in code\n```\n"
)
CITATIONS = [{"valid": True}, {"valid": False}, {"valid": True}]


def inline_tokens(markdown: str, citations: list[dict[str, object]]) -> list[Token]:
    parser = answer_parser(citation_verdicts(markdown, citations))
    return [child for token in parser.parse(markdown) for child in token.children or []]


def test_citations_become_links_to_their_verdicts_and_nothing_else_is_a_link() -> None:
    tokens = inline_tokens(ANSWER, CITATIONS)
    links = [token.attrs["href"] for token in tokens if token.type == "link_open"]
    assert links == ["cite:0", "cite:1"]
    texts = [token.content for token in tokens if token.type == "text"]
    assert "【F:calc.py†L1-L2】 ✓" in texts and "【F:gone.py†L3】 ✗" in texts
    shown = "".join(texts)
    assert "[docs](https://evil.example)" in shown and "![x](http://e/x.png)" in shown
    assert "<b>bold</b>" in shown and "<https://e.example>" in shown
    assert not [token for token in tokens if token.type in ("image", "html_inline")]


def test_a_citation_in_code_stays_code() -> None:
    blocks = answer_parser(citation_verdicts(ANSWER, CITATIONS)).parse(ANSWER)
    [fence] = [token for token in blocks if token.type == "fence"]
    assert fence.content == "【F:calc.py†L1-L2】 in code\n"


def test_citations_that_do_not_match_the_record_are_left_as_text() -> None:
    tokens = inline_tokens(ANSWER, CITATIONS[:1])
    assert not [token for token in tokens if token.type == "link_open"]


def test_an_error_is_shown_as_it_is_whatever_backticks_it_holds() -> None:
    block = code_block("failed: ```` not a fence")
    assert block.startswith("`````text\n") and block.endswith("\n`````")
