"""Follow-ups continue a task in its sandbox and branch; retry and archive."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.agent.repair import ABORTED_RESULT
from engine.api import EngineError, TaskRequest
from engine.record.bus import Subscription
from engine.views.accept import AcceptRequest, BranchTaken
from engine.views.events import Event
from tests.support.engines import of_type, run_to_end, scripted_engine
from tests.support.model_server import Call, Reply, ScriptedModelServer
from tests.support.repos import FIX_PATCH, git, make_calc_repo

pytestmark = pytest.mark.usefixtures("docker_available")

ADD_TEST_PATCH = """*** Begin Patch
*** Add File: test_negative.py
+import unittest
+
+from calc import add
+
+
+class NegativeTest(unittest.TestCase):
+    def test_negative(self):
+        self.assertEqual(add(-2, -3), -5)
*** End Patch"""


async def follow_events(subscription: Subscription) -> list[Event]:
    events = []
    async for event in subscription:
        events.append(event)
        if event.type == "task.finished":
            break
    subscription.close()
    return events


async def test_follow_up_adds_a_turn_on_the_same_branch(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    script = [
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(text="fixed add"),
        Reply(tool_calls=[Call("apply_patch", {"input": ADD_TEST_PATCH})]),
        Reply(tool_calls=[Call("shell", {"command": ["python3", "-m", "unittest", "-q"]})]),
        Reply(text="added a test for negatives"),
    ]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(tmp_path / "home", server)
        first, _ = await run_to_end(engine, TaskRequest(prompt="fix add", repo=str(repo)))
        assert first.status == "ready"
        subscription = engine.subscribe(first.id)
        await engine.follow_up(first.id, "also test negative numbers")
        events = await follow_events(subscription)
        await engine.wait(first.id)
        follow_up_request = server.requests[2]
    done = engine.task(first.id)
    assert done.status == "ready" and done.final_message == "added a test for negatives"
    assert done.sandbox_id == first.sandbox_id and done.branch == first.branch
    assert "+    return a + b" in done.diff and "+class NegativeTest" in done.diff
    items = follow_up_request.items()
    assert any("fix add" in str(item.get("content")) for item in items)
    assert follow_up_request.last_user_text() == "also test negative numbers"
    assert of_type(events, "command.finished")[-1].exit_code == 0
    assert done.usage["input_tokens"] == 50
    branch, _ = await engine.apply(first.id, str(repo), "fix-and-test")
    assert git(repo, "log", "--format=%s", branch).count("taskyard:") == 2
    await engine.close()


async def test_retry_archive_and_follow_up_refusals(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    script = [Reply(text="nothing to do"), Reply(text="still nothing"), Reply(text="retried")]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(tmp_path / "home", server)
        first, _ = await run_to_end(engine, TaskRequest(prompt="look", repo=str(repo)))
        second, _ = await run_to_end(engine, TaskRequest(prompt="look", repo=str(repo)))
        with pytest.raises(EngineError, match="empty"):
            await engine.follow_up(first.id, "  ")
        engine.archive(first.id)
        assert [task.id for task in engine.tasks()] == [second.id]
        assert {task.id for task in engine.tasks(include_archived=True)} == {first.id, second.id}
        subscription = engine.subscribe()
        retried = await engine.retry(first.id)
        await follow_events(subscription)
        final = await engine.wait(retried.id)
    assert retried.id not in (first.id, second.id)
    assert final.prompt == "look" and final.status == "ready"
    assert final.final_message == "retried"
    assert engine.environments() == ["default"]
    await engine.close()


async def test_a_task_cancelled_mid_command_can_be_followed_up(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    script = [
        Reply(tool_calls=[Call("shell", {"command": ["sleep", "600"]})]),
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(text="fixed add after the cancel"),
    ]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(tmp_path / "home", server)
        subscription = engine.subscribe()
        first = await engine.submit(TaskRequest(prompt="fix add", repo=str(repo)))
        async for event in subscription:
            if event.type == "command.started" and event.phase == "agent":
                break
        subscription.close()
        await engine.cancel(first.id)
        cancelled = engine.task(first.id)
        await engine.follow_up(first.id, "go on without waiting")
        done = await engine.wait(first.id)
        follow_up_request = server.requests[1]
    assert cancelled.status == "cancelled"
    assert done.status == "ready" and done.final_message == "fixed add after the cancel"
    assert done.sandbox_id == cancelled.sandbox_id and done.branch == cancelled.branch
    assert "+    return a + b" in done.diff
    assert follow_up_request.tool_outputs() == [ABORTED_RESULT]
    assert follow_up_request.last_user_text() == "go on without waiting"
    await engine.close()


async def test_accepting_after_each_follow_up_moves_the_branch_forward(tmp_path: Path) -> None:
    repo = make_calc_repo(tmp_path / "calc")
    negative = ADD_TEST_PATCH
    zero = negative.replace("test_negative.py", "test_zero.py").replace("(-2, -3), -5", "(0, 0), 0")
    script = [
        Reply(tool_calls=[Call("apply_patch", {"input": FIX_PATCH})]),
        Reply(text="fixed add"),
        Reply(tool_calls=[Call("apply_patch", {"input": negative})]),
        Reply(text="tested negatives"),
        Reply(tool_calls=[Call("apply_patch", {"input": zero})]),
        Reply(text="tested zero"),
    ]
    with ScriptedModelServer(script) as server:
        engine = scripted_engine(tmp_path / "home", server)
        task, _ = await run_to_end(engine, TaskRequest(prompt="fix add", repo=str(repo)))
        first = await engine.accept(task.id)
        await engine.follow_up(task.id, "also test negative numbers")
        second_head = (await engine.wait(task.id)).head_sha
        second = await engine.accept(task.id)
        mine = git(repo, "commit-tree", f"{first.branch}^{{tree}}", "-p", first.branch, "-m", "x")
        git(repo, "update-ref", f"refs/heads/{first.branch}", mine)
        await engine.follow_up(task.id, "and zero")
        await engine.wait(task.id)
        with pytest.raises(BranchTaken) as raised:
            await engine.accept(task.id)
        third = await engine.accept(task.id, AcceptRequest(branch=raised.value.suggestion))
        await engine.close()
    assert first.previous == "" and first.branch == f"taskyard/{task.id}"
    assert (second.previous, second.sha, second.moved) == (first.sha, second_head, True)
    assert git(repo, "merge-base", "--is-ancestor", first.sha, second.sha) == ""
    assert git(repo, "show", f"{first.branch}~1:test_negative.py").startswith("import unittest")
    assert git(repo, "rev-parse", first.branch) == mine
    assert raised.value.suggestion == f"taskyard/{task.id}-2" and third.previous == ""
    assert "test_zero.py" in git(repo, "ls-tree", "--name-only", third.branch)
    assert git(repo, "branch", "--show-current") == "main"
    assert git(repo, "status", "--porcelain") == ""
