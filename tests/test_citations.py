"""Citations: parsing edge cases (engine.views.citations) and verification against line counts
(engine.run.citations)."""

from __future__ import annotations

import pytest

from engine.run.citations import VerifiedCitation, verify_citations
from engine.views.citations import Citation, normalise_path, parse_citations


def test_file_and_chunk_citations_with_offsets() -> None:
    text = "Fixed 【F:src/app.py†L10-L20】 and tests pass 【c3f9a2†L3-L7】."
    assert parse_citations(text) == [
        Citation("file", "src/app.py", 10, 20, "【F:src/app.py†L10-L20】", 6),
        Citation("chunk", "c3f9a2", 3, 7, "【c3f9a2†L3-L7】", text.index("【c3f9a2")),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("【F:a.py†L5】", ("file", "a.py", 5, 5)),
        ("【F:a.py†L10-20】", ("file", "a.py", 10, 20)),
        ("【F:./a.py†L1】", ("file", "a.py", 1, 1)),
        ("【F:/workspace/repo/pkg/a.py†L2-L3】", ("file", "pkg/a.py", 2, 3)),
        ("【F:docs/my notes.md†L1】", ("file", "docs/my notes.md", 1, 1)),
        ("【F: a.py †L1 - L2】", ("file", "a.py", 1, 2)),
        ("【run_1.out-2†L4】", ("chunk", "run_1.out-2", 4, 4)),
        ("【F:a.py†L20-L10】", ("file", "a.py", 20, 10)),
    ],
)
def test_parse_variants(text: str, expected: tuple[str, str, int, int]) -> None:
    (citation,) = parse_citations(f"see {text} here")
    assert (citation.kind, citation.target, citation.start, citation.end) == expected
    assert citation.raw == text
    assert citation.offset == 4


@pytest.mark.parametrize(
    "text",
    [
        "no citations at all",
        "【F:a.py】",
        "【F:a.py†10-20】",
        "【c3 f9†L1】",
        "【c3f9a2†L】",
        "[F:a.py†L1]",
        "【F:a.py†L1",
        "【†L1】",
    ],
)
def test_not_citations(text: str) -> None:
    assert parse_citations(text) == []


def test_custom_repo_dir_and_normalise() -> None:
    (citation,) = parse_citations("【F:/src/repo/x.py†L1】", repo_dir="/src/repo/")
    assert citation.target == "x.py"
    assert normalise_path("././a/b.py") == "a/b.py"
    assert normalise_path("/etc/passwd") == "/etc/passwd"


def test_adjacent_citations() -> None:
    citations = parse_citations("【F:a.py†L1】【F:b.py†L2】")
    assert [(c.target, c.offset) for c in citations] == [("a.py", 0), ("b.py", 11)]


class Lookups:
    """Line counts for files and chunks, recording every lookup."""

    def __init__(self) -> None:
        self.files = {"a.py": 12, "empty.txt": 0}
        self.chunks = {"c3f9a2": 8}
        self.calls: list[str] = []

    async def file_lines(self, path: str) -> int | None:
        self.calls.append(f"file:{path}")
        return self.files.get(path)

    async def chunk_lines(self, chunk_id: str) -> int | None:
        self.calls.append(f"chunk:{chunk_id}")
        return self.chunks.get(chunk_id)


async def verify(text: str, lookups: Lookups) -> list[VerifiedCitation]:
    return await verify_citations(parse_citations(text), lookups.file_lines, lookups.chunk_lines)


@pytest.mark.parametrize(
    ("text", "valid", "reason"),
    [
        ("【F:a.py†L1-L12】", True, ""),
        ("【F:a.py†L12】", True, ""),
        ("【F:a.py†L10-L40】", False, "line 40 past end (12 lines)"),
        ("【F:a.py†L0-L3】", False, "line numbers start at 1"),
        ("【F:a.py†L9-L3】", False, "range L9-L3 is reversed"),
        ("【F:missing.py†L1】", False, "no such file"),
        ("【F:empty.txt†L1】", False, "line 1 past end (0 lines)"),
        ("【c3f9a2†L8】", True, ""),
        ("【c3f9a2†L9】", False, "line 9 past end (8 lines)"),
        ("【ffffff†L1】", False, "unknown chunk"),
    ],
)
async def test_verify_reasons(text: str, valid: bool, reason: str) -> None:
    (verified,) = await verify(text, Lookups())
    assert (verified.valid, verified.reason) == (valid, reason)


async def test_each_target_looked_up_once() -> None:
    lookups = Lookups()
    text = "【F:a.py†L1】【F:./a.py†L2】【c3f9a2†L1】【c3f9a2†L2】【F:a.py†L3】"
    verified = await verify(text, lookups)
    assert sorted(lookups.calls) == ["chunk:c3f9a2", "file:a.py"]
    assert [v.start for v in verified] == [1, 2, 1, 2, 3]
    assert all(v.valid for v in verified)


async def test_same_name_as_file_and_chunk_are_separate_lookups() -> None:
    lookups = Lookups()
    lookups.files["c3f9a2"] = 1
    await verify("【F:c3f9a2†L1】【c3f9a2†L1】", lookups)
    assert sorted(lookups.calls) == ["chunk:c3f9a2", "file:c3f9a2"]


async def test_verified_keeps_citation_fields_and_to_dict() -> None:
    text = "x 【F:a.py†L2-L4】"
    (verified,) = await verify(text, Lookups())
    assert (verified.raw, verified.offset) == ("【F:a.py†L2-L4】", 2)
    assert verified.to_dict() == {
        "kind": "file",
        "target": "a.py",
        "start": 2,
        "end": 4,
        "valid": True,
        "reason": "",
    }


async def test_verify_nothing() -> None:
    assert await verify("plain answer", Lookups()) == []
