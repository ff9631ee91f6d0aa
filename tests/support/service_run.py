"""A second process that runs a task through the service, as `taskyard run` does once it is a
client: `python -m tests.support.service_run PROMPT REPO` prints the task id, then waits for it
to end."""

from __future__ import annotations

import asyncio
import sys

from engine.requests import TaskRequest
from engine.service.client import ServiceClient


async def run(prompt: str, repo: str) -> int:
    client = await ServiceClient.connect(name="cli")
    try:
        record = await client.submit(TaskRequest(prompt=prompt, repo=repo))
        print(record.id, flush=True)
        finished = await client.wait(record.id)
    finally:
        await client.close()
    print(finished.status, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run(sys.argv[1], sys.argv[2])))
