"""taskyard's offline demo model: an agent for the demo's sample repository (minicart), with no
network and no key. Each turn it reads the real output of the commands it ran so far and
decides the next step from it: it patches only after it saw the failure, and reports what the
test runs said. Several attempts differ by their first command's chunk id, so best-of-N has
something to rank; a follow-up is a new turn, taken from the sandbox as it is now."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from engine.models.base import (
    AssistantMessage,
    ConversationItem,
    ModelClient,
    ModelReply,
    RetryCallback,
    TextCallback,
    ToolCall,
    ToolSpec,
    Usage,
)
from engine.models.demo_transcript import (
    Failure,
    Run,
    Transcript,
    cat,
    failures,
    tests_ran,
)

THINKING_SECONDS = 0.7
"""How long the demo model takes per turn, so that a person can follow the loop."""
CHARS_PER_TOKEN = 4
COUNT_WORDS = re.compile(r"item_count|\bcount", re.IGNORECASE)
FIX_WORDS = re.compile(r"fix|fail|bug|broken|test|pass|repair|discount", re.IGNORECASE)
TEST_WORDS = re.compile(r"\b(?:add|write)\b.*\btests?\b|\bregression\b", re.IGNORECASE)
SENT_BACK = re.compile(r"^I did not accept these changes to ")
NEW_FILE = re.compile(r"^--- /dev/null\n\+\+\+ b/(?P<path>\S+)$", re.MULTILINE)
IMPORT = re.compile(r"^from (?P<module>[\w.]+) import ")
PERCENT_BUG = re.compile(r"^.*\b\w+ \* (?P<percent>\w*percent\w*)\s*$")
NEXT_METHOD = re.compile(r"^    def ")
INTRO = (
    "I'm taskyard's offline demo model. In this sample repository I can fix the failing test, "
    "add `Cart.item_count()`, add regression tests or answer questions about the code; "
    "I'll fix the failing test.\n\n"
)
FIRST_RUN = "I'll run the test suite first to see what fails."
REGRESSION_TEST_PATH = "tests/test_discounts.py"
REGRESSION_TEST = """\
import unittest

from minicart.cart import Cart


class DiscountTest(unittest.TestCase):
    def test_no_discount_keeps_the_subtotal(self):
        cart = Cart()
        cart.add("lamp", 40.00)
        self.assertEqual(cart.total(), 40.00)

    def test_full_discount_costs_nothing(self):
        cart = Cart()
        cart.add("lamp", 40.00)
        self.assertEqual(cart.total(discount_percent=100), 0)
"""
COUNT_TEST_PATH = "tests/test_count.py"
COUNT_TEST = """\
import unittest

from minicart.cart import Cart


class ItemCountTest(unittest.TestCase):
    def test_counts_quantities(self):
        cart = Cart()
        cart.add("pen", 1.50, quantity=4)
        cart.add("notebook", 3.00)
        self.assertEqual(cart.item_count(), 5)
"""
COUNT_METHOD = [
    "    def item_count(self) -> int:",
    '        """How many items the cart holds, counting quantities."""',
    "        return sum(item.quantity for item in self.items)",
    "",
]
FIND_CART = ("grep", "-rnw", "class Cart", "--include=*.py", ".")
LIST_FILES = ("git", "ls-files")


class DemoModelClient(ModelClient):
    """The demo model behind the ModelClient interface: no network, no key."""

    def __init__(self, thinking_seconds: float = THINKING_SECONDS) -> None:
        self.thinking_seconds = thinking_seconds

    async def complete(
        self,
        instructions: str,
        conversation: list[ConversationItem],
        tools: list[ToolSpec],
        on_text: TextCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> ModelReply:
        can_patch = any(tool.name == "apply_patch" for tool in tools)
        message = decide(Transcript.read(instructions, conversation), can_patch)
        await asyncio.sleep(self.thinking_seconds)
        if on_text is not None and message.text:
            for line in message.text.splitlines(keepends=True):
                on_text(line)
        return ModelReply(message, usage(instructions, conversation, message))

    async def aclose(self) -> None:
        """Nothing to release."""


def usage(
    instructions: str, conversation: list[ConversationItem], message: AssistantMessage
) -> Usage:
    """Tokens as a real model would count them, roughly: four characters each."""
    sent = len(instructions) + sum(len(str(item)) for item in conversation)
    said = len(message.text) + sum(len(call.arguments) for call in message.tool_calls)
    return Usage(sent // CHARS_PER_TOKEN, said // CHARS_PER_TOKEN + 1)


def decide(transcript: Transcript, can_patch: bool) -> AssistantMessage:
    """The next message: a tool call with a line on why, or the final answer."""
    if not can_patch:
        return explain(transcript)
    if SENT_BACK.match(transcript.prompt):
        return rework(transcript)
    if COUNT_WORDS.search(transcript.prompt):
        return add_item_count(transcript)
    return fix(transcript)


def say(text: str) -> AssistantMessage:
    return AssistantMessage(text=text)


def tool(text: str, name: str, arguments: dict[str, Any]) -> AssistantMessage:
    call = ToolCall(f"call_{secrets.token_hex(6)}", name, json.dumps(arguments))
    return AssistantMessage(text=text, tool_calls=(call,))


def shell(text: str, command: tuple[str, ...]) -> AssistantMessage:
    return tool(text, "shell", {"command": list(command)})


def apply_patch(text: str, patch: list[str]) -> AssistantMessage:
    return tool(
        text, "apply_patch", {"input": "\n".join(["*** Begin Patch", *patch, "*** End Patch"])}
    )


def shown(command: tuple[str, ...]) -> str:
    return " ".join(command)


def fix(transcript: Transcript) -> AssistantMessage:
    """Run the suite; read the failing test and the module it imports; patch the percentage;
    run the suite again; report what both runs said."""
    test = transcript.test_command
    intro = "" if FIX_WORDS.search(transcript.prompt) else INTRO
    before = transcript.first_run(test)
    if before is None:
        first = "Where does the suite stand now?" if transcript.follow_up else FIRST_RUN
        return shell(f"{intro}{first}", test)
    found = failures(before, transcript)
    if not found:
        return add_regression_test(transcript, before)
    failure = found[0]
    reading = read_code(transcript, failure)
    if isinstance(reading, AssistantMessage):
        return reading
    bug = find_bug(*reading)
    if bug is None:
        where = before.cite(failure.first, failure.last)
        return say(f"`{failure.test}` fails {where}, and I could not find why in `{reading[0]}`.")
    if not transcript.patches:
        both = variant(before) == 1 or bool(TEST_WORDS.search(transcript.prompt))
        also = ", and I'll pin the edge cases with a regression test." if both else "."
        return apply_patch(
            f"{bug.cause}. It must divide by 100{also}",
            bug.patch() + (regression_test() if both else []),
        )
    if transcript.patches[-1].startswith("error"):
        return say(f"My patch did not apply: {transcript.patches[-1]}. I left the code as it was.")
    after = transcript.last_run(test)
    if after is None or after is before:
        return shell("Now the suite again.", test)
    return say(fixed_answer(transcript, failure, bug, before, after))


def read_code(transcript: Transcript, failure: Failure) -> AssistantMessage | tuple[str, list[str]]:
    """The next file to read (the failing test's, then the module it imports), or that
    module's path and lines once both are read."""
    finding = f"`{failure.test}` fails with `{failure.error}`"
    test_source = transcript.file(failure.path)
    if test_source is None:
        return shell(f"{finding}. Let me read the test.", cat(failure.path))
    module = imported_module(test_source)
    if module is None:
        return say(f"{finding}, but I cannot tell which module `{failure.path}` tests.")
    source = transcript.file(module)
    if source is None:
        return shell(f"The test exercises `{module}`; reading it.", cat(module))
    return module, source


def imported_module(test_source: list[str]) -> str | None:
    """The path of the first module a test file imports from the repository."""
    for line in test_source:
        if (match := IMPORT.match(line)) and match.group("module") not in ("unittest", "typing"):
            return match.group("module").replace(".", "/") + ".py"
    return None


@dataclass(frozen=True)
class Bug:
    """A line that multiplies by a percentage without dividing by 100."""

    module: str
    source: list[str]
    line: int
    """Its number, from 1."""
    percent: str
    """The percentage's name."""

    @property
    def code(self) -> str:
        return self.source[self.line - 1]

    @property
    def where(self) -> str:
        """`Class.method` (or `function`) it is in."""
        name = enclosing_def(self.source, self.line).removeprefix("def ").split("(")[0]
        for line in reversed(self.source[: self.line - 1]):
            if line.startswith("class "):
                return f"{line.removeprefix('class ').split('(')[0].rstrip(':')}.{name}"
        return name

    @property
    def cause(self) -> str:
        return (
            f"`{self.where}` takes `{self.percent}` as a fraction: `{self.code.strip()}` "
            f"【F:{self.module}†L{self.line}】 takes off ten times the subtotal for 10%"
        )

    def patch(self) -> list[str]:
        """The patch that divides by 100, with the lines around it as context."""
        return [
            f"*** Update File: {self.module}",
            f"@@ {enclosing_def(self.source, self.line)}",
            *(f" {line}" for line in self.source[max(0, self.line - 3) : self.line - 1]),
            f"-{self.code}",
            f"+{self.code.rstrip()} / 100",
            *(f" {line}" for line in self.source[self.line : self.line + 1]),
        ]


def find_bug(module: str, source: list[str]) -> Bug | None:
    for number, line in enumerate(source, start=1):
        if match := PERCENT_BUG.match(line):
            return Bug(module, source, number, match.group("percent"))
    return None


def enclosing_def(source: list[str], number: int) -> str:
    """The `def` line above line `number`, for a patch's @@ context."""
    for line in reversed(source[: number - 1]):
        if line.strip().startswith("def "):
            return line.strip()
    return ""


def regression_test() -> list[str]:
    return [
        f"*** Add File: {REGRESSION_TEST_PATH}",
        *(f"+{line}" for line in REGRESSION_TEST.splitlines()),
    ]


def variant(run: Run) -> int:
    """Which of two fixes an attempt makes, from its first command's chunk id: attempts of one
    task differ, as a real model's do."""
    return sum(run.chunk_id.encode()) % 2


def test_citation(transcript: Transcript, failure: Failure) -> str:
    """A citation of the failing test's definition."""
    start, end = definition(transcript.file(failure.path) or [], failure.test)
    return f"【F:{failure.path}†L{start}-L{end}】"


def fixed_answer(
    transcript: Transcript, failure: Failure, bug: Bug, before: Run, after: Run
) -> str:
    summary = (
        f"`{bug.where}` took `{bug.percent}` as a fraction, so a 10% discount took off ten "
        f"times the subtotal; it now divides by 100 【F:{bug.module}†L{bug.line}】, which gives "
        f"what `{failure.test}` expects {test_citation(transcript, failure)}."
    )
    if "A " + REGRESSION_TEST_PATH in transcript.patches[-1]:
        summary += (
            f" `{REGRESSION_TEST_PATH}` pins no discount and a full discount "
            f"【F:{REGRESSION_TEST_PATH}†L6-L14】."
        )
    command = shown(transcript.test_command)
    return (
        f"**Summary**\n\n{summary}\n\n**Testing**\n\n"
        f"- `{command}` before the change: `{failure.error}` "
        f"{before.cite(failure.first, failure.last)}\n"
        f"- `{command}` after it: {outcome(after)}\n"
    )


def outcome(run: Run) -> str:
    """What a unittest run says, with its citation."""
    ran = tests_ran(run)
    if ran is None:
        return f"exit {run.exit_code} {run.cite(1, max(1, len(run.lines)))}"
    count, line = ran
    last = len(run.lines)
    if run.passed:
        passing = "the 1 test passes" if count == 1 else f"all {count} tests pass"
        return f"{passing} {run.cite(line, last)}"
    broken = len(failures(run, Transcript("", False)))
    return f"{broken} of {count} tests fail {run.cite(line, last)}"


def definition(source: list[str], name: str) -> tuple[int, int]:
    """The lines (from 1) of the function `name`: its def to its last non-blank line."""
    start = next((n for n, line in enumerate(source, 1) if f"def {name}(" in line), 1)
    end = start
    for number in range(start + 1, len(source) + 1):
        line = source[number - 1]
        if line.strip() and not line.startswith(" " * 8):
            break
        if line.strip():
            end = number
    return start, end


def add_regression_test(transcript: Transcript, before: Run) -> AssistantMessage:
    """With a passing suite: add the regression test when asked for one, else say so."""
    command = shown(transcript.test_command)
    if not TEST_WORDS.search(transcript.prompt):
        return say(
            "**Summary**\n\nNothing fails, so I changed nothing.\n\n**Testing**\n\n"
            f"- `{command}`: {outcome(before)}\n"
        )
    if before.first_line(re.compile(r"\(tests\.test_discounts\.")) is not None:
        return say(
            f"The regression tests are there already and pass: {outcome(before)}. "
            "I changed nothing."
        )
    if not transcript.patches:
        return apply_patch(
            "The suite passes; I'll pin the discount's edge cases with a regression test.",
            regression_test(),
        )
    after = transcript.last_run(transcript.test_command)
    if after is None or after is before:
        return shell("Running the suite with the new test.", transcript.test_command)
    return say(
        f"**Summary**\n\nAdded `{REGRESSION_TEST_PATH}`: no discount and a full discount "
        f"【F:{REGRESSION_TEST_PATH}†L6-L14】.\n\n**Testing**\n\n- `{command}`: "
        f"{outcome(after)}\n"
    )


def add_item_count(transcript: Transcript) -> AssistantMessage:
    """Add `Cart.item_count()` with a test of its own, check only that test, and say that all
    tests pass: the claim the evidence contradicts when the suite failed before."""
    test = transcript.test_command
    suite = transcript.first_run(test)
    if suite is None:
        return shell("I'll run the suite first, to know where it stands.", test)
    found = transcript.first_run(FIND_CART)
    if found is None:
        failing = failures(suite, transcript)
        note = (
            f"`{failing[0].test}` fails already; it is about discounts, not counting, so I'll "
            "leave it. "
            if failing
            else ""
        )
        return shell(f"{note}Where is `Cart` defined?", FIND_CART)
    module = found.lines[0].split(":", 1)[0].removeprefix("./") if found.lines else ""
    source = transcript.file(module)
    if not module:
        return say("I could not find `Cart` in this repository.")
    if source is None:
        return shell(f"`Cart` is in `{module}`.", cat(module))
    own = (*test, "tests.test_count")
    insert = next_method(source, "subtotal")
    if not transcript.patches:
        return apply_patch(
            "I'll add `item_count` after `subtotal`, with a test of its own.",
            item_count_patch(module, source, insert),
        )
    run = transcript.last_run(own)
    if run is None:
        return shell("Running the new test.", own)
    return say(
        f"**Summary**\n\nAdded `Cart.item_count()`, which counts every item with its quantity "
        f"【F:{module}†L{insert + 1}-L{insert + 3}】, and a test for it "
        f"【F:{COUNT_TEST_PATH}†L7-L11】.\n\n**Testing**\n\n"
        f"- `{shown(own)}`: {outcome(run)}\n\nAll tests pass.\n"
    )


def next_method(source: list[str], name: str) -> int:
    """The index (from 0) of the method after `name`'s, where a new one goes."""
    start = next((n for n, line in enumerate(source) if f"def {name}(" in line), 0)
    return next(
        (n for n in range(start + 1, len(source)) if NEXT_METHOD.match(source[n])), len(source)
    )


def item_count_patch(module: str, source: list[str], insert: int) -> list[str]:
    return [
        f"*** Update File: {module}",
        f"@@ {enclosing_def(source, insert)}",
        *(f" {line}" for line in source[max(0, insert - 2) : insert]),
        *(f"+{line}" for line in COUNT_METHOD),
        *(f" {line}" for line in source[insert : insert + 1]),
        f"*** Add File: {COUNT_TEST_PATH}",
        *(f"+{line}" for line in COUNT_TEST.splitlines()),
    ]


def explain(transcript: Transcript) -> AssistantMessage:
    """An ask task: look at the files, run the tests read-only, read the failing test and its
    module, and answer with what they show."""
    if transcript.first_run(LIST_FILES) is None:
        return shell("Let me see what the repository holds.", LIST_FILES)
    test = transcript.test_command
    suite = transcript.first_run(test)
    if suite is None:
        return shell("Now the tests, to see where they stand (they change nothing).", test)
    found = failures(suite, transcript)
    if not found:
        return say(f"Nothing fails here: {outcome(suite)}.")
    failure = found[0]
    reading = read_code(transcript, failure)
    if isinstance(reading, AssistantMessage):
        return reading
    evidence = (
        f"\n\n**Evidence**\n\n"
        f"- The test expects: {test_citation(transcript, failure)}\n"
        f"- `{shown(test)}`: `{failure.error}` {suite.cite(failure.first, failure.last)}; "
        f"{outcome(suite)}\n"
    )
    bug = find_bug(*reading)
    if bug is None:
        return say(f"`{failure.test}` fails, and I could not find why in `{reading[0]}`.{evidence}")
    return say(
        f"`{failure.test}` fails because {bug.cause}. Dividing by 100 fixes it; the test is "
        f"right.{evidence}"
    )


def rework(transcript: Transcript) -> AssistantMessage:
    """Changes sent back: drop the files it added that the person did not accept, keep a
    changed file (the fix is what the tests need), and say where the suite stands."""
    dropped = NEW_FILE.findall(transcript.prompt)
    test = transcript.test_command
    named = ", ".join(f"`{path}`" for path in dropped)
    if dropped and not transcript.patches:
        deletions = [f"*** Delete File: {path}" for path in dropped]
        return apply_patch(f"I'll drop {named}, as you asked.", deletions)
    run = transcript.last_run(test)
    if run is None:
        return shell("Where does the suite stand now?", test)
    summary = (
        f"Dropped {named}; the rest stays as you accepted it."
        if dropped
        else "What you sent back is the change the failing test needs, so I kept it: leave it "
        "out when you accept, or tell me what to do instead."
    )
    return say(f"**Summary**\n\n{summary}\n\n**Testing**\n\n- `{shown(test)}`: {outcome(run)}\n")
