"""The offline demo model's decisions, played against tool outputs recorded from real runs of
`taskyard demo` (tests/fixtures/demo): what it runs next, what it patches, what it answers."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import deque
from importlib.resources import files
from pathlib import Path

import pytest

from engine.accept.choice import rejected_prompt
from engine.agent.tools import APPLY_PATCH, SHELL
from engine.config import DEMO_MODEL
from engine.diff.patchset import parse_patch
from engine.git.gitops import AgentsDoc
from engine.models import make_model_client
from engine.models.base import (
    AssistantMessage,
    ConversationItem,
    ModelSettings,
    ToolCall,
    ToolResult,
    UserMessage,
)
from engine.models.demo import DemoModelClient, decide
from engine.models.demo_transcript import Transcript, parse_run
from engine.patch import LocalPatchFS, apply_patch
from engine.run.evidence import command_text, is_check_command, success_claim
from engine.run.layout import REPO_DIR
from engine.run.prompt import build_instructions
from engine.views.citations import parse_citations
from engine.views.result import CheckRun, Evidence
from tui.demo import copy_tree

FIXTURES = Path(__file__).parent / "fixtures" / "demo"
SUITE = ("python3", "-m", "unittest", "-v")
READ_TEST = ("cat", "-n", "tests/test_cart.py")
READ_CART = ("cat", "-n", "minicart/cart.py")
PATCH = ("apply_patch",)
Key = tuple[str, ...]


def recorded(name: str, chunk_id: str | None = None) -> str:
    """A tool result recorded from a real run, its chunk id replaced when given."""
    text = (FIXTURES / f"{name}.txt").read_text()
    if chunk_id is None:
        return text
    first, rest = text.split("\n", 1)
    return f"chunk_id: {chunk_id}\n{rest}" if first.startswith("chunk_id: ") else text


def instructions(mode: str) -> str:
    """What the engine tells the model, with the sample's AGENTS.md."""
    agents = (files("tui.demo") / "sample" / "AGENTS.md").read_text()
    doc = AgentsDoc("AGENTS.md", agents, len(agents), truncated=False)
    return build_instructions("ask" if mode == "ask" else "code", [doc], REPO_DIR)


def key(call: ToolCall) -> Key:
    arguments = json.loads(call.arguments)
    return PATCH if call.name == "apply_patch" else tuple(arguments["command"])


def play(
    prompt: str,
    results: dict[Key, list[str]],
    mode: str = "code",
    before: list[ConversationItem] | None = None,
) -> list[ConversationItem]:
    """The conversation of one turn, each call answered by the next recorded result for it."""
    waiting = {name: deque(outputs) for name, outputs in results.items()}
    conversation: list[ConversationItem] = [*(before or []), UserMessage(prompt)]
    for _ in range(12):
        message = decide(Transcript.read(instructions(mode), conversation), mode == "code")
        conversation.append(message)
        if not message.tool_calls:
            return conversation
        for call in message.tool_calls:
            conversation.append(ToolResult(call.call_id, waiting[key(call)].popleft()))
    raise AssertionError("the demo model never answered")


def calls(conversation: list[ConversationItem]) -> list[Key]:
    return [
        key(call)
        for item in conversation
        if isinstance(item, AssistantMessage)
        for call in item.tool_calls
    ]


def answer(conversation: list[ConversationItem]) -> str:
    last = conversation[-1]
    assert isinstance(last, AssistantMessage) and not last.tool_calls
    return last.text


def patches(conversation: list[ConversationItem]) -> list[str]:
    return [
        json.loads(call.arguments)["input"]
        for item in conversation
        if isinstance(item, AssistantMessage)
        for call in item.tool_calls
        if call.name == "apply_patch"
    ]


def line_counts(conversation: list[ConversationItem]) -> dict[str, int]:
    """Lines of each command output the model saw, by chunk id."""
    counts = {}
    for item in conversation:
        if isinstance(item, ToolResult) and item.output.startswith("chunk_id: "):
            run = parse_run((), item.output)
            counts[run.chunk_id] = len(run.lines)
    return counts


def assert_cited_lines_exist(text: str, conversation: list[ConversationItem], repo: Path) -> None:
    """Every citation names an output the model saw or a file of `repo`, within its lines."""
    chunks = line_counts(conversation)
    citations = parse_citations(text)
    assert citations
    for citation in citations:
        if citation.kind == "chunk":
            assert citation.end <= chunks[citation.target], citation.raw
        else:
            lines = (repo / citation.target).read_text().count("\n")
            assert citation.end <= lines, citation.raw


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The demo's sample repository, as files."""
    copy_tree(files("tui.demo") / "sample", tmp_path / "minicart")
    return tmp_path / "minicart"


async def applied(conversation: list[ConversationItem], repo: Path) -> None:
    for patch in patches(conversation):
        await apply_patch(patch, LocalPatchFS(repo))


def run_tests(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-B", "-m", "unittest", "-v"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def fix_results(first_chunk: str = "be1606ee") -> dict[Key, list[str]]:
    return {
        SUITE: [recorded("suite_failing", first_chunk), recorded("suite_fixed")],
        READ_TEST: [recorded("cat_test_cart")],
        READ_CART: [recorded("cat_cart")],
        PATCH: [recorded("patch_fix")],
    }


@pytest.mark.parametrize("prompt", ["Fix the failing test", "Make the discount test pass"])
async def test_the_fix_patches_only_after_reading_the_failure_and_the_code(
    sample: Path, prompt: str
) -> None:
    conversation = play(prompt, fix_results())
    assert calls(conversation) == [SUITE, READ_TEST, READ_CART, PATCH, SUITE]
    [patch] = patches(conversation)
    assert "-        discount = subtotal * discount_percent\n" in patch
    assert "+        discount = subtotal * discount_percent / 100\n" in patch
    text = answer(conversation)
    assert "【be1606ee†L6-L11】" in text  # the FAIL header to the AssertionError
    assert "all 3 tests pass" in text and "【F:minicart/cart.py†L28】" in text
    await applied(conversation, sample)
    assert_cited_lines_exist(text, conversation, sample)
    assert run_tests(sample).returncode == 0


async def test_another_attempt_also_pins_the_edge_cases(sample: Path) -> None:
    conversation = play("Fix the failing test", fix_results(first_chunk="be1606ef"))
    [patch] = patches(conversation)
    assert "*** Add File: tests/test_discounts.py" in patch
    await applied(conversation, sample)
    assert (sample / "tests" / "test_discounts.py").exists()
    assert run_tests(sample).returncode == 0


def test_a_passing_suite_is_left_alone() -> None:
    conversation = play("Fix the failing test", {SUITE: [recorded("suite_fixed")]})
    assert calls(conversation) == [SUITE]
    assert "Nothing fails" in answer(conversation)


def test_a_bug_found_elsewhere_is_patched_and_cited_where_the_output_shows_it() -> None:
    shifted = recorded("cat_cart").replace("output (29 lines):", "output (31 lines):")
    lines = shifted.split("\n")
    header, body = lines[:4], [line.split("\t", 1)[1] for line in lines[4:]]
    body[2:2] = ["import math", ""]
    numbered = [f"{n:>6}\t{line}" for n, line in enumerate(body, 1)]
    results = {**fix_results(), READ_CART: ["\n".join(header + numbered)]}
    conversation = play("Fix the failing test", results)
    assert "【F:minicart/cart.py†L30】" in answer(conversation)


def test_a_follow_up_starts_from_the_sandbox_as_it_is(sample: Path) -> None:
    first = play("Fix the failing test", fix_results())
    results = {
        SUITE: [recorded("suite_fixed"), recorded("suite_with_regression")],
        PATCH: [recorded("patch_regression")],
    }
    conversation = play("Add regression tests for the edge cases", results, before=first)
    turn = conversation[len(first) :]
    assert calls(turn) == [SUITE, PATCH, SUITE]
    assert "all 5 tests pass" in answer(turn)


REGRESSION_DIFF = """\
diff --git a/tests/test_discounts.py b/tests/test_discounts.py
new file mode 100644
index 0000000..6c0b5a1
--- /dev/null
+++ b/tests/test_discounts.py
@@ -0,0 +1,3 @@
+import unittest
+
+from minicart.cart import Cart
"""


def test_an_added_file_sent_back_is_dropped() -> None:
    first = play("Fix the failing test", fix_results(first_chunk="be1606ef"))
    prompt = rejected_prompt(parse_patch(REGRESSION_DIFF))
    results = {
        PATCH: ["Success. Updated the following files:\nD tests/test_discounts.py"],
        SUITE: [recorded("suite_fixed")],
    }
    turn = play(prompt, results, before=first)[len(first) :]
    assert patches(turn) == [
        "*** Begin Patch\n*** Delete File: tests/test_discounts.py\n*** End Patch"
    ]
    assert calls(turn) == [PATCH, SUITE]
    assert "Dropped `tests/test_discounts.py`" in answer(turn) and "all 3 tests pass" in answer(
        turn
    )


def test_an_ask_task_reads_and_answers_without_changing_anything() -> None:
    results = {
        ("git", "ls-files"): [recorded("ls_files")],
        SUITE: [recorded("suite_failing")],
        READ_TEST: [recorded("cat_test_cart")],
        READ_CART: [recorded("cat_cart")],
    }
    conversation = play("Why does test_ten_percent_discount fail?", results, mode="ask")
    assert PATCH not in calls(conversation)
    text = answer(conversation)
    assert "`discount = subtotal * discount_percent` 【F:minicart/cart.py†L28】" in text
    assert "【F:tests/test_cart.py†L16-L19】" in text and "-360.0 != 36.0" in text


def test_the_item_count_answer_claims_what_its_own_runs_contradict() -> None:
    results = {
        SUITE: [recorded("suite_failing")],
        ("grep", "-rnw", "class Cart", "--include=*.py", "."): [recorded("grep_cart")],
        READ_CART: [recorded("cat_cart")],
        PATCH: [recorded("patch_count")],
        (*SUITE, "tests.test_count"): [recorded("suite_count")],
    }
    conversation = play("Add Cart.item_count(), with a test", results)
    [patch] = patches(conversation)
    assert "+    def item_count(self) -> int:" in patch
    checks = [
        CheckRun(run.chunk_id, command_text(list(run.command)), run.exit_code, False)
        for run in Transcript.read(instructions("code"), conversation).runs
        if is_check_command(list(run.command))
    ]
    evidence = Evidence(checks, success_claim(answer(conversation)), 0, 0)
    assert evidence.unsupported_claim
    assert "`python3 -m unittest -v` (be1606ee) ended fail with exit 1" in evidence.warning


async def test_the_client_streams_its_text_and_counts_tokens() -> None:
    client = DemoModelClient(thinking_seconds=0)
    streamed: list[str] = []
    reply = await client.complete(
        instructions("code"),
        [UserMessage("Fix the failing test")],
        [SHELL, APPLY_PATCH],
        streamed.append,
    )
    assert [key(call) for call in reply.message.tool_calls] == [SUITE]
    assert "".join(streamed) == reply.message.text
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0


def test_the_demo_model_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert isinstance(make_model_client(ModelSettings(model=DEMO_MODEL)), DemoModelClient)
