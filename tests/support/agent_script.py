"""Scripted agent turns: tool calls, and the calc fix played end to end."""

from __future__ import annotations

from tests.support.model_server import Call, RecordedRequest, Reply, Step
from tests.support.repos import FIX_PATCH

TEST_COMMAND = ["python3", "-m", "unittest", "-q"]


def shell(*argv: str, **extra: object) -> Call:
    """A `shell` tool call running argv, with optional workdir/timeout_ms."""
    return Call("shell", {"command": list(argv), **extra})


def chunk_ids(request: RecordedRequest) -> list[str]:
    """The chunk ids the engine returned to the model so far, in order."""
    return [
        output.splitlines()[0].removeprefix("chunk_id: ")
        for output in request.tool_outputs()
        if output.startswith("chunk_id: ")
    ]


def final_answer(request: RecordedRequest) -> Reply:
    """The fix's answer, citing the file and both test runs by their chunk ids."""
    failing, passing = chunk_ids(request)
    return Reply(
        text=(
            "Fixed `add`, which subtracted 【F:calc.py†L1-L2】. The test failed before "
            f"【{failing}†L1-L3】 and passes now 【{passing}†L1-L3】."
        )
    )


def fix_script() -> list[Step]:
    """Run the failing test, patch calc.py, run it again, answer with citations."""
    return [
        Reply(tool_calls=[shell(*TEST_COMMAND)]),
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(tool_calls=[shell(*TEST_COMMAND, timeout_ms=60000)]),
        final_answer,
    ]
