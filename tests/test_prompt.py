"""engine.run.prompt: instructions per mode, AGENTS.md rendering and the shell output contract."""

from __future__ import annotations

from engine.git.gitops import AgentsDoc
from engine.run.prompt import build_instructions, user_prompt
from engine.views.citations import parse_citations

DOCS = [
    AgentsDoc("AGENTS.md", "Run `make test`.\n", 17, truncated=False),
    AgentsDoc("src/AGENTS.md", "Use tabs", 900, truncated=True),
]


def test_code_mode_has_both_tools_and_patch_format() -> None:
    text = build_instructions("code", DOCS, "/workspace/repo")
    assert "`shell`" in text and "`apply_patch`" in text
    assert "*** Begin Patch" in text and "*** End Patch" in text
    assert "*** Update File: src/app.py" in text
    assert 'return f"Hello, {name}!"' in text
    assert "/workspace/repo" in text
    assert "**Summary**" in text and "**Testing**" in text


def test_ask_mode_forbids_changes_and_has_no_patch_tool() -> None:
    text = build_instructions("ask", DOCS, "/workspace/repo")
    assert "apply_patch" not in text and "*** Begin Patch" not in text
    assert "Do not modify, create or delete files" in text


def test_both_modes_explain_chunks_citations_and_network() -> None:
    for mode in ("code", "ask"):
        text = build_instructions(mode, [], "/repo")
        assert "chunk_id: <id>" in text
        assert "numbered from 1" in text
        assert "【F:<path>†L<start>-L<end>】" in text
        assert "【<chunk_id>†L<start>-L<end>】" in text
        assert "no network access" in text.lower()
        assert "without tool calls ends the task" in text


def test_citation_examples_in_prompt_parse() -> None:
    text = build_instructions("code", [], "/workspace/repo")
    assert [(c.kind, c.target) for c in parse_citations(text)] == [
        ("file", "src/app.py"),
        ("chunk", "c3f9a2"),
    ]


def test_agents_docs_in_order_with_precedence_and_truncation() -> None:
    text = build_instructions("code", DOCS, "/workspace/repo")
    root = text.index('<agents_md path="AGENTS.md">\nRun `make test`.\n</agents_md>')
    deeper = text.index('<agents_md path="src/AGENTS.md">\nUse tabs\n[truncated: 900 bytes')
    assert root < deeper
    assert "the deeper file wins" in text
    assert text.endswith("</agents_md>\n")


def test_without_agents_docs_points_elsewhere() -> None:
    text = build_instructions("code", [], "/workspace/repo")
    assert "No AGENTS.md applies" in text and "<agents_md" not in text


def test_user_prompt() -> None:
    assert user_prompt("  Fix the bug\n") == "Fix the bug"
    assert user_prompt("Fix it", "./") == "Fix it"
    assert user_prompt("Fix it", "pkg/api") == "Fix it\n\n(Working directory: pkg/api)"
