"""An engine in a process of its own, to be killed with SIGKILL while its tasks run.

Run as `python -m tests.support.crashing_engine SPEC`, SPEC being JSON: `home`, `base_url`,
`repo`, `prompts` (one task each), `config` (the engine's config), `host` (the host the
tasks must run on, optional) and `ready_when`: `output`
(every task's agent command printed `line 2`) or `setup` (every task's setup started). Prints
`ready` once that holds, then waits to be killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from engine.api import TaskRequest
from engine.views.events import CommandStarted, Event, OutputChunk
from tests.support.engines import engine_at


def reached(event: Event, ready_when: str) -> bool:
    """Whether the event shows its task got where the killing is due."""
    if ready_when == "setup":
        return isinstance(event, CommandStarted) and event.phase == "setup"
    return isinstance(event, OutputChunk) and "line 2" in event.text


async def run(spec: dict[str, Any]) -> None:
    engine = engine_at(Path(spec["home"]), spec["base_url"], **spec["config"])
    subscription = engine.subscribe()
    records = [
        await engine.submit(TaskRequest(prompt=prompt, repo=spec["repo"], host=spec.get("host")))
        for prompt in spec["prompts"]
    ]
    waiting = {record.id for record in records}
    async for event in subscription:
        if event.type == "task.finished":
            raise SystemExit(f"task {event.task_id} ended before the kill: {event}")
        if reached(event, spec["ready_when"]):
            waiting.discard(event.task_id)
        if not waiting:
            break
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(run(json.loads(sys.argv[1])))
