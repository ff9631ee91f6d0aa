"""A task's result: the agent's work committed and bundled in the sandbox, and its verified
citations. The diff and head are read from the bundle on the host (`host_result`)."""

from __future__ import annotations

import asyncio
import posixpath
from pathlib import Path
from typing import Any

from engine.agent.output import count_lines
from engine.git import gitops
from engine.record.store import Store
from engine.run.citations import verify_citations
from engine.run.layout import INBOX_DIR, REPO_DIR
from engine.views.citations import parse_citations
from sandboxes.base import Sandbox, SandboxError

BOOKKEEPING_TIMEOUT = 300.0


class ResultError(Exception):
    """The result could not be collected from the sandbox."""


class ResultCollector:
    """Reads one task's result out of its sandbox and checks the answer's citations."""

    def __init__(self, sandbox: Sandbox, store: Store, task_id: str) -> None:
        self._sandbox = sandbox
        self._store = store
        self._task_id = task_id

    async def commit_and_bundle(
        self, base_sha: str, branch: str, message: str, bundle: Path
    ) -> None:
        """Commit the agent's work on branch and copy its bundle to `bundle`; what the sandbox
        prints meanwhile is not used."""
        out_bundle = posixpath.join(INBOX_DIR, "result.bundle")
        script = gitops.finish_script(REPO_DIR, branch, base_sha, message, out_bundle)
        await self._capture(["sh", "-c", script], "/")
        await self._sandbox.copy_out(out_bundle, str(bundle))

    async def _capture(self, argv: list[str], workdir: str) -> str:
        chunks: list[bytes] = []
        result = await self._sandbox.exec(
            argv, workdir=workdir, timeout=BOOKKEEPING_TIMEOUT, on_output=chunks.append
        )
        output = b"".join(chunks).decode("utf-8", errors="replace")
        if result.exit_code != 0:
            raise ResultError(f"collecting the result failed: {output.strip()[-500:]}")
        return output

    async def citations(self, message: str) -> list[dict[str, Any]]:
        """Each citation in the final message, checked against the tree and stored output."""
        citations = parse_citations(message)
        if not citations:
            return []
        verified = await verify_citations(citations, self._file_lines, self._chunk_lines)
        return [citation.to_dict() for citation in verified]

    async def _file_lines(self, path: str) -> int | None:
        try:
            data = await self._sandbox.read_file(posixpath.join(REPO_DIR, path))
        except (FileNotFoundError, IsADirectoryError, SandboxError):
            return None
        return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)

    async def _chunk_lines(self, chunk_id: str) -> int | None:
        record = self._store.get_command(self._task_id, chunk_id)
        if record is None:
            return None
        return await asyncio.to_thread(count_lines, Path(record.log_path))
