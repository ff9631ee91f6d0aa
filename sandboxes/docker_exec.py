"""Running one command in a container: its process group, its output stream, its exit."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import docker.errors
import docker.utils
from docker.api.client import APIClient

from sandboxes.base import OutputCallback, RunLost, SandboxError, SandboxRestart

RUN_DIR = "/tmp/.taskyard-runs"
"""Where each command keeps its process group id, a copy of its output and its exit status."""
FRAME_HEADER_BYTES = 8
INPUT_CHUNK_BYTES = 1 << 20
STDOUT_FRAME = 1
EXIT_MARK = b"\x1etaskyard-exit:"
"""Starts the line GROUP_SCRIPT writes to stderr when the command ends: the exit status."""
RESTART_TIMEOUT_SECONDS = 1
"""How long a restart waits for the container's processes to stop before killing them."""
LOST_STATUS = "lost"
"""The status RESUME_SCRIPT reports when the command ended without recording one."""
RUN_ID = re.compile(r"[0-9a-f]{8,64}")
"""What a run id looks like: it names the run's directory under RUN_DIR."""
ENGINE_RESTART_NOTE = (
    "interrupted by a Docker restart: the Docker engine stopped the sandbox, which ended the "
    "command's processes; the sandbox was started again with its files kept"
)
"""Why a command has no exit status when its engine restarted while it ran."""

RUN_MARKER = "TASKYARD_RUN"
"""The environment variable that marks every process of a command: its value is the command's
run id, inherited by each child however it detaches (setsid, double fork, `timeout`)."""

GROUP_SCRIPT = (
    'dir="$1"; stale="$2"; shift 2; root="${dir%/*}"; '
    'mkdir -p -m 1777 "$root" 2>/dev/null; mkdir -p "$dir" || exit 125; '
    'for old in $stale; do [ -e "$root/$old/status" ] && '
    'rm -rf "${root:?}/$old" 2>/dev/null; done; '
    f'echo $$ > "$dir/pid"; export {RUN_MARKER}="${{dir##*/}}"; '
    "if tee -p /dev/null </dev/null >/dev/null 2>&1; then keep=-p; else keep=; fi; "
    '{ "$@" 2>&1; echo $? > "$dir/status.new"; } | tee $keep "$dir/log"; '
    'mv "$dir/status.new" "$dir/status"; rm -f "$dir/pid"; status=$(cat "$dir/status"); '
    'printf \'\\036taskyard-exit:%s\\n\' "$status" >&2; exit "$status"'
)
"""Records the process group id (docker exec starts the command as a session leader), marks
the command's processes with RUN_MARKER, runs argv with stderr on stdout's pipe so their order
survives, keeps a copy of that output and its exit status in the command's directory (they
outlive a lost connection: `tee -p` goes on writing the copy when the stream is gone), and ends
with the status on stderr. Directories of commands already read to their end are removed on
the way, never one without a recorded status (a run that may still be followed)."""

RESUME_SCRIPT = (
    'dir="$1"; sent="$2"; '
    "while :; do "
    '[ -e "$dir/status" ] && ended=1 || ended=0; '
    'size=$(wc -c < "$dir/log" 2>/dev/null || echo 0); '
    'if [ "$size" -gt "$sent" ]; then '
    'tail -c +$((sent + 1)) "$dir/log" | head -c $((size - sent)); sent=$size; fi; '
    "if [ $ended = 1 ]; then "
    'printf \'\\036taskyard-exit:%s\\n\' "$(cat "$dir/status")" >&2; exit 0; fi; '
    'if ! kill -0 "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null && [ ! -e "$dir/status" ]; then '
    f"printf '\\036taskyard-exit:{LOST_STATUS}\\n' >&2; exit 0; fi; "
    "sleep 0.2; done"
)
"""Streams a command's recorded output from byte `sent` on, live, until its status is recorded;
then reports that status the way GROUP_SCRIPT does."""

MARK_LOST_SCRIPT = (
    f'for dir in {RUN_DIR}/*; do [ -d "$dir" ] || continue; '
    f'[ -e "$dir/status" ] || echo {LOST_STATUS} > "$dir/status"; rm -f "$dir/pid"; done'
)
"""Records every command without a status as lost: run at a container's start, when none of
the processes it was running is left (and their pids may be taken by new ones)."""

RUN_PROCESSES_AWK = (
    '$1 == "end" { complete = 1; next } '
    '/^\\/proc\\// { split($1, path, "/"); marked[path[3]] = 1; next } '
    "{ pid[NR] = $1; state[$1] = $2; parent[$1] = $3; group[$1] = $4 } "
    "END { if (!complete) exit 3; "
    "for (n in pid) { p = pid[n]; if ((p in marked) || group[p] == leader) hit[p] = 1 } "
    "do { grew = 0; for (n in pid) { p = pid[n]; "
    "if (!(p in hit) && (parent[p] in hit)) { hit[p] = 1; grew = 1 } } } while (grew); "
    'for (p in hit) if (p + 0 > 1 && p != self && (p in state) && state[p] != "Z") '
    'printf "%s ", p }'
)
"""From `pid state ppid pgrp` lines, the paths of the environ files that carry the run's
marker, and a last `end` line: the live processes that are marked, in the group, or descend
from either. Exits 3 without the `end` line (the listing broke off)."""

KILL_SCRIPT = (
    f'dir="$1"; marker="{RUN_MARKER}=${{dir##*/}}"; self=$$; leader=; tries=0; '
    'while [ ! -s "$dir/pid" ] && [ $tries -lt 20 ]; do sleep 0.1; tries=$((tries + 1)); done; '
    'read -r leader 2>/dev/null < "$dir/pid"; '
    '[ -n "$leader" ] && kill -s KILL -- "-$leader" 2>/dev/null; '
    "processes() { for stat in /proc/[0-9]*/stat; do "
    'read -r line 2>/dev/null < "$stat" || continue; set -- ${line##*) }; '
    'echo "${line%% *} $1 $2 $3"; done; '
    'grep -lsxzF "$marker" /proc/[0-9]*/environ; echo end; }; '
    "rounds=0; while [ $rounds -lt 100 ]; do "
    f"victims=$(processes | awk -v leader=\"$leader\" -v self=$self '{RUN_PROCESSES_AWK}') "
    "|| exit 3; "
    '[ -z "$victims" ] && { rm -f "$dir/pid"; exit 0; }; '
    "kill -s KILL $victims 2>/dev/null; rounds=$((rounds + 1)); done; exit 4"
)
"""Kills every process of the command in run directory $1: its process group, every process
carrying its RUN_MARKER, and their descendants, round after round until none is left (exit 0).
Any other exit (a fork that failed, processes that outlive 100 rounds) means they could not be
ended from inside."""


class LostStream(SandboxError):
    """A command's output stream ended before the command did: the connection was lost."""


class ThreadedStream:
    """Runs a blocking chunk iterator on its own thread and delivers chunks on the event loop."""

    def __init__(self, chunks: Iterator[bytes], name: str) -> None:
        self._chunks = chunks
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[bytes | Exception | None] = asyncio.Queue()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            for chunk in self._chunks:
                self._post(chunk)
        except Exception as error:
            self._post(error)
        else:
            self._post(None)

    def _post(self, item: bytes | Exception | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:
            return

    async def deliver(self, on_output: OutputCallback | None, timeout: float | None) -> bool:
        """Pass chunks to on_output until the stream ends (True) or timeout passes (False)."""
        try:
            async with asyncio.timeout(timeout) as scope:
                await self._deliver_all(on_output)
        except TimeoutError:
            if scope.expired():
                return False
            raise
        return True

    async def _deliver_all(self, on_output: OutputCallback | None) -> None:
        while (item := await self._queue.get()) is not None:
            if isinstance(item, Exception):
                raise item
            if on_output is not None:
                on_output(item)


def start_exec_stream(api: APIClient, exec_id: str) -> Any:
    """Start an exec and return its output stream: the response's buffered reader.

    docker-py's `exec_start(socket=True)` hands back the raw socket under that reader, which
    loses any output that arrived together with the response headers (common through an SSH
    relay, where both come in one read). Reading from the buffered reader keeps every byte.
    """
    client: Any = api
    response = client._post_json(
        client._url("/exec/{0}/start", exec_id),
        headers={"Connection": "Upgrade", "Upgrade": "tcp"},
        data={"Tty": False, "Detach": False},
        stream=True,
    )
    client._raise_for_status(response)
    reader = response.raw._fp.fp
    reader.response = response
    return reader


def feed_input(reader: Any, host_path: str) -> None:
    """Write a host file to the standard input of the exec whose stream `reader` is, on a
    thread of its own, then close the input. A command that ends first, or a connection that
    drops, ends the writing: the command sees its input cut short."""
    sock = getattr(getattr(reader, "raw", None), "_sock", None)
    if not hasattr(sock, "sendall"):
        raise SandboxError("this connection to the Docker engine cannot write a command's input")
    source = open(host_path, "rb")  # noqa: SIM115 (closed by the writing thread)
    name = f"taskyard-input-{os.path.basename(host_path)}"
    threading.Thread(target=write_input, args=(sock, source), name=name, daemon=True).start()


def write_input(sock: Any, source: BinaryIO) -> None:
    """Send all of source on sock, then shut its sending side down; a closed socket ends it."""
    with source:
        try:
            while chunk := source.read(INPUT_CHUNK_BYTES):
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return


def read_exactly(reader: Any, size: int) -> bytes:
    """`size` bytes, or fewer if the stream ends first."""
    parts, missing = [], size
    while missing:
        part = reader.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def exec_frames(reader: Any) -> Iterator[tuple[int, bytes]]:
    """The frames of Docker's multiplexed stream (8-byte header: kind, 3 zeros, length)."""
    while len(header := read_exactly(reader, FRAME_HEADER_BYTES)) == FRAME_HEADER_BYTES:
        kind, length = struct.unpack(">BxxxL", header)
        if length:
            yield kind, read_exactly(reader, length)


class ExecOutput:
    """The output of a command run by GROUP_SCRIPT or RESUME_SCRIPT, and its exit status.

    stdout carries the command's merged output; stderr carries the exit line (and any complaint
    of the wrapper script, passed on as output).
    """

    def __init__(self, open_stream: Callable[[], Any]) -> None:
        self._open_stream = open_stream
        self._stream: Any = None
        self._aborted = False
        self._stderr = b""
        self.status: str | None = None
        """The exit status as reported at the end of the stream; None until then."""

    def chunks(self) -> Iterator[bytes]:
        """Start the exec and yield its output chunks in arrival order."""
        self._stream = self._open_stream()
        try:
            if not self._aborted:
                yield from self._payloads()
        finally:
            self._stream.close()

    def _payloads(self) -> Iterator[bytes]:
        try:
            for kind, payload in exec_frames(self._stream):
                if kind == STDOUT_FRAME:
                    yield payload
                elif other := self._take_stderr(payload):
                    yield other
        except (OSError, ValueError) as error:
            if not self._aborted:
                raise LostStream(f"lost the output of a command: {error}") from error

    def _take_stderr(self, payload: bytes) -> bytes:
        """Keep the exit line out of the output; return any other stderr text."""
        self._stderr += payload
        mark = self._stderr.find(EXIT_MARK)
        if mark < 0:
            other, self._stderr = self._stderr, b""
            return other
        line_end = self._stderr.find(b"\n", mark)
        if line_end < 0:
            other, self._stderr = self._stderr[:mark], self._stderr[mark:]
            return other
        self.status = self._stderr[mark + len(EXIT_MARK) : line_end].decode(errors="replace")
        other, self._stderr = self._stderr[:mark] + self._stderr[line_end + 1 :], b""
        return other

    def exit_code(self) -> int:
        """The command's exit code; LostStream when the stream ended before the command did."""
        if self.status is None:
            raise LostStream("the output of a command ended before the command did")
        if self.status == LOST_STATUS or not self.status.isdigit():
            raise RunLost(
                "a command ended without recording its exit status: its processes were killed "
                "from outside the task (out of memory, or the container restarted?)"
            )
        return int(self.status)

    def abort(self) -> None:
        """Stop reading: shut the connection down so the reading thread ends."""
        self._aborted = True
        raw = getattr(getattr(self._stream, "raw", None), "_sock", None)
        if raw is None:
            return
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            return


class ReceivedOutput:
    """Passes a command's output on and counts the bytes passed, to resume after a loss."""

    def __init__(self, on_output: OutputCallback | None) -> None:
        self._on_output = on_output
        self.size = 0

    def deliver(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._on_output is not None:
            self._on_output(chunk)


def end_run(api: APIClient, container_id: str, run_dir: str, user: str) -> SandboxRestart | None:
    """End every process of the command in run_dir. When that cannot be done from inside (the
    sandbox is out of processes, or the killer fails), restart the container: every process in
    it ends, its files stay."""
    reached = pids_limit_reached(api, container_id)
    if reached is None and kill_run(api, container_id, run_dir, user):
        return None
    if not is_running(api, container_id):
        return None
    if reached is None:
        reached = pids_limit_reached(api, container_id)
    api.restart(container_id, timeout=RESTART_TIMEOUT_SECONDS)
    return SandboxRestart(pids_limit=reached)


def kill_run(api: APIClient, container_id: str, run_dir: str, user: str) -> bool:
    """Run KILL_SCRIPT as the command's user (who can read its processes' environment); True
    when it saw every process of the command end."""
    try:
        killer = api.exec_create(container_id, ["sh", "-c", KILL_SCRIPT, "sh", run_dir], user=user)
        api.exec_start(killer["Id"])
        exit_code: int | None = api.exec_inspect(killer["Id"])["ExitCode"]
    except docker.errors.APIError:
        return False
    return exit_code == 0


def pids_limit_reached(api: APIClient, container_id: str) -> int | None:
    """The container's process limit when it has reached it; None otherwise, and on engines
    too old to answer at once (before API 1.41)."""
    if docker.utils.version_lt(api.api_version, "1.41"):
        return None
    try:
        stats = api.stats(container_id, stream=False, one_shot=True)
    except docker.errors.APIError:
        return None
    pids = stats.get("pids_stats") or {}
    current, limit = pids.get("current"), pids.get("limit")
    if isinstance(current, int) and isinstance(limit, int) and 0 < limit <= current:
        return limit
    return None


def run_directory(run_id: str) -> str:
    """The directory of the command run `run_id`; SandboxError when it is not a run id."""
    if not RUN_ID.fullmatch(run_id):
        raise SandboxError(f"{run_id!r} is not a command run id (8 to 64 lowercase hex digits)")
    return f"{RUN_DIR}/{run_id}"


def resume_command(run_dir: str, sent: int) -> list[str]:
    """The command that streams a run's output from byte `sent` to its end, then its status."""
    return ["sh", "-c", RESUME_SCRIPT, "sh", run_dir, str(sent)]


def revive(api: APIClient, container_id: str) -> bool:
    """Start the container when it is stopped, recording the commands it ran as lost (their
    processes ended with it); whether it was stopped."""
    if is_running(api, container_id):
        return False
    api.start(container_id)
    marker = api.exec_create(container_id, ["sh", "-c", MARK_LOST_SCRIPT], user="0")
    api.exec_start(marker["Id"])
    return True


def is_running(api: APIClient, container_id: str) -> bool:
    running: bool = api.inspect_container(container_id)["State"]["Running"]
    return running
