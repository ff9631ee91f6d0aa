"""SQLite (WAL) record of tasks, events, commands, turns and the conversation.

Every write commits at once, so a crash loses nothing already shown. Command output lives in
per-command log files under the state dir; the store keeps their paths.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from engine.views.events import Event
from engine.views.task import CommandRecord, TaskRecord, TaskStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    prompt TEXT NOT NULL,
    repo TEXT NOT NULL,
    ref TEXT,
    mode TEXT NOT NULL,
    environment TEXT NOT NULL,
    image TEXT NOT NULL,
    status TEXT NOT NULL,
    base_sha TEXT NOT NULL DEFAULT '',
    branch TEXT NOT NULL DEFAULT '',
    head_sha TEXT NOT NULL DEFAULT '',
    sandbox_id TEXT NOT NULL DEFAULT '',
    final_message TEXT NOT NULL DEFAULT '',
    diff TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    usage TEXT NOT NULL DEFAULT '{}',
    result_bundle TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    instructions TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0,
    host TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    ts REAL NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_task ON events (task_id, seq);
CREATE TABLE IF NOT EXISTS commands (
    chunk_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    command TEXT NOT NULL,
    workdir TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    exit_code INTEGER,
    timed_out INTEGER NOT NULL DEFAULT 0,
    output_lines INTEGER NOT NULL DEFAULT 0,
    output_bytes INTEGER NOT NULL DEFAULT 0,
    log_path TEXT NOT NULL,
    PRIMARY KEY (task_id, chunk_id)
);
CREATE TABLE IF NOT EXISTS turns (
    task_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    ts REAL NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    PRIMARY KEY (task_id, turn)
);
CREATE TABLE IF NOT EXISTS owners (
    id TEXT PRIMARY KEY,
    heartbeat REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS conversation (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    item TEXT NOT NULL
);
"""

TASK_COLUMNS = tuple(field.name for field in dataclasses.fields(TaskRecord))
"""The tasks table's columns, in TaskRecord's order."""
ADDED_COLUMNS = {
    "host": "TEXT NOT NULL DEFAULT ''",
    "group_id": "TEXT NOT NULL DEFAULT ''",
    "attempt": "INTEGER NOT NULL DEFAULT 1",
    "pr_url": "TEXT NOT NULL DEFAULT ''",
    "pr_number": "INTEGER NOT NULL DEFAULT 0",
    "pr_forge": "TEXT NOT NULL DEFAULT ''",
    "findings": "TEXT NOT NULL DEFAULT '[]'",
    "verdict": "TEXT NOT NULL DEFAULT ''",
    "include_uncommitted": "INTEGER NOT NULL DEFAULT 0",
}
"""Columns added to tasks after its first release, with their definitions: older stores gain them
when opened."""
ADDED_COMMAND_COLUMNS = {
    "run_id": "TEXT NOT NULL DEFAULT ''",
    "call_id": "TEXT NOT NULL DEFAULT ''",
}
"""Columns added to commands after its first release, gained like ADDED_COLUMNS."""
UPDATABLE = frozenset(TASK_COLUMNS) - {"id", "created", "status"}
"""Task columns update_task may set; the status is written by the lifecycle alone."""
JSON_COLUMNS = ("citations", "usage", "findings")
"""Task columns stored as JSON."""


class StoreError(Exception):
    """The store cannot be opened or used."""


def _task_from_row(row: sqlite3.Row) -> TaskRecord:
    data = dict(row)
    for name in JSON_COLUMNS:
        data[name] = json.loads(data[name])
    data["archived"] = bool(data["archived"])
    data["include_uncommitted"] = bool(data["include_uncommitted"])
    return TaskRecord(**data)


def _command_from_row(row: sqlite3.Row) -> CommandRecord:
    data = dict(row)
    data["command"] = json.loads(data["command"])
    data["timed_out"] = bool(data["timed_out"])
    return CommandRecord(**data)


class Store:
    """The SQLite store; one connection, used from the event loop thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot open the task store {path}: {error}") from None

    def _add_missing_columns(self) -> None:
        for table, added in (("tasks", ADDED_COLUMNS), ("commands", ADDED_COMMAND_COLUMNS)):
            present = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, definition in added.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")

    def close(self) -> None:
        self._db.close()

    def insert_task(self, record: TaskRecord) -> None:
        row = record.to_dict()
        for name in JSON_COLUMNS:
            row[name] = json.dumps(row[name])
        names = ", ".join(TASK_COLUMNS)
        marks = ", ".join(f":{name}" for name in TASK_COLUMNS)
        self._db.execute(f"INSERT INTO tasks ({names}) VALUES ({marks})", row)

    def update_task(self, task_id: str, **changes: Any) -> None:
        """Set the given task columns (the JSON columns as Python values); never the status."""
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not task columns: {sorted(unknown)}")
        for name in JSON_COLUMNS:
            if name in changes:
                changes[name] = json.dumps(changes[name])
        changes["updated"] = time.time()
        assignments = ", ".join(f"{name} = :{name}" for name in changes)
        self._db.execute(
            f"UPDATE tasks SET {assignments} WHERE id = :id", {**changes, "id": task_id}
        )

    def write_status(
        self, task_id: str, current: TaskStatus, new: TaskStatus, error: str | None = None
    ) -> bool:
        """Set the task's status to `new` (and its error, when given) if it is still `current`;
        whether it was. Only the lifecycle (`engine/lifecycle.py`) calls this."""
        changes: dict[str, Any] = {"status": new.value, "updated": time.time()}
        if error is not None:
            changes["error"] = error
        assignments = ", ".join(f"{name} = :{name}" for name in changes)
        cursor = self._db.execute(
            f"UPDATE tasks SET {assignments} WHERE id = :id AND status = :current",
            {**changes, "id": task_id, "current": current.value},
        )
        return cursor.rowcount == 1

    def claim_task(self, task_id: str, owner: str, new_owner: str) -> bool:
        """Make `new_owner` the task's owner if `owner` still is; whether it was."""
        cursor = self._db.execute(
            "UPDATE tasks SET owner = ?, updated = ? WHERE id = ? AND owner = ?",
            (new_owner, time.time(), task_id, owner),
        )
        return cursor.rowcount == 1

    def get_task(self, task_id: str) -> TaskRecord | None:
        row = self._db.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return _task_from_row(row) if row else None

    def find_task(self, prefix: str) -> list[TaskRecord]:
        """Tasks whose id starts with prefix, taken literally (ids may be abbreviated like git
        shas)."""
        rows = self._db.execute(
            "SELECT * FROM tasks WHERE substr(id, 1, ?) = ? ORDER BY created", (len(prefix), prefix)
        ).fetchall()
        return [_task_from_row(row) for row in rows]

    def list_tasks(
        self,
        include_archived: bool = False,
        statuses: Iterable[TaskStatus] = (),
        repo: str | None = None,
        limit: int | None = None,
    ) -> list[TaskRecord]:
        """Tasks newest first: unarchived ones unless `include_archived`, of `statuses` and
        `repo` when given, at most `limit`."""
        conditions = [] if include_archived else ["archived = 0"]
        values: list[str | int] = []
        if wanted := [status.value for status in statuses]:
            conditions.append(f"status IN ({', '.join('?' for _ in wanted)})")
            values += wanted
        if repo is not None:
            conditions.append("rtrim(repo, '/') = ?")
            values.append(repo.rstrip("/"))
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"SELECT * FROM tasks {where} ORDER BY created DESC, rowid DESC"
        if limit is not None:
            query += " LIMIT ?"
            values.append(limit)
        return [_task_from_row(row) for row in self._db.execute(query, values).fetchall()]

    def group_tasks(self, group_id: str) -> list[TaskRecord]:
        """The attempts of one request, in attempt order."""
        rows = self._db.execute(
            "SELECT * FROM tasks WHERE group_id = ? OR id = ? ORDER BY attempt, created",
            (group_id, group_id),
        ).fetchall()
        return [_task_from_row(row) for row in rows]

    def tasks_in(self, statuses: Iterable[TaskStatus]) -> list[TaskRecord]:
        """Tasks whose status is one of statuses, archived ones included."""
        wanted = [status.value for status in statuses]
        marks = ", ".join("?" for _ in wanted)
        rows = self._db.execute(f"SELECT * FROM tasks WHERE status IN ({marks})", wanted)
        return [_task_from_row(row) for row in rows.fetchall()]

    def record_event(self, event: Event) -> None:
        data = event.to_dict()
        self._db.execute(
            "INSERT INTO events (task_id, ts, type, data) VALUES (?, ?, ?, ?)",
            (event.task_id, event.ts, event.type, json.dumps(data)),
        )

    def events(self, task_id: str) -> Iterator[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT data FROM events WHERE task_id = ? ORDER BY ts, seq", (task_id,)
        ).fetchall()
        return (json.loads(row["data"]) for row in rows)

    def start_command(self, record: CommandRecord) -> None:
        row = record.to_dict()
        row["command"] = json.dumps(row["command"])
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        self._db.execute(f"INSERT INTO commands ({names}) VALUES ({marks})", row)

    def finish_command(
        self,
        task_id: str,
        chunk_id: str,
        *,
        exit_code: int | None,
        timed_out: bool,
        output_lines: int,
        output_bytes: int,
    ) -> None:
        self._db.execute(
            "UPDATE commands SET finished = ?, exit_code = ?, timed_out = ?, output_lines = ?,"
            " output_bytes = ? WHERE task_id = ? AND chunk_id = ?",
            (time.time(), exit_code, int(timed_out), output_lines, output_bytes, task_id, chunk_id),
        )

    def commands(self, task_id: str) -> list[CommandRecord]:
        rows = self._db.execute(
            "SELECT * FROM commands WHERE task_id = ? ORDER BY started", (task_id,)
        ).fetchall()
        return [_command_from_row(row) for row in rows]

    def get_command(self, task_id: str, chunk_id: str) -> CommandRecord | None:
        row = self._db.execute(
            "SELECT * FROM commands WHERE task_id = ? AND chunk_id = ?", (task_id, chunk_id)
        ).fetchone()
        return _command_from_row(row) if row else None

    def record_turn(self, task_id: str, turn: int, usage: dict[str, int]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO turns VALUES (?, ?, ?, ?, ?, ?)",
            (
                task_id,
                turn,
                time.time(),
                usage["input_tokens"],
                usage["output_tokens"],
                usage["cached_tokens"],
            ),
        )

    def total_usage(self, task_id: str) -> dict[str, int]:
        """Token counts summed over every turn of a task."""
        row = self._db.execute(
            "SELECT COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),"
            " COALESCE(SUM(cached_tokens), 0) FROM turns WHERE task_id = ?",
            (task_id,),
        ).fetchone()
        spent = {"input_tokens": row[0], "output_tokens": row[1], "cached_tokens": row[2]}
        return {**spent, "total_tokens": row[0] + row[1]}

    def turns(self, task_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM turns WHERE task_id = ? ORDER BY turn", (task_id,)
        ).fetchall()
        return [dict(row) for row in rows]

    def append_conversation(self, task_id: str, item: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO conversation (task_id, item) VALUES (?, ?)", (task_id, json.dumps(item))
        )

    def renew_lease(self, owner: str, heartbeat: float) -> None:
        """Record `heartbeat` as the latest sign of life of `owner`."""
        self._db.execute(
            "INSERT INTO owners (id, heartbeat) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat",
            (owner, heartbeat),
        )

    def heartbeat(self, owner: str) -> float | None:
        """The last heartbeat `owner` recorded, None once its lease was dropped."""
        row = self._db.execute("SELECT heartbeat FROM owners WHERE id = ?", (owner,)).fetchone()
        return None if row is None else float(row["heartbeat"])

    def drop_lease(self, owner: str) -> None:
        self._db.execute("DELETE FROM owners WHERE id = ?", (owner,))

    def owners_renewed_since(self, since: float) -> set[str]:
        """The owners whose last heartbeat is at or after `since`."""
        rows = self._db.execute("SELECT id FROM owners WHERE heartbeat >= ?", (since,))
        return {row["id"] for row in rows.fetchall()}

    def replace_conversation(self, task_id: str, items: list[dict[str, Any]]) -> None:
        """Store `items` as the task's whole conversation, in one transaction."""
        self._db.execute("BEGIN")
        try:
            self._db.execute("DELETE FROM conversation WHERE task_id = ?", (task_id,))
            self._db.executemany(
                "INSERT INTO conversation (task_id, item) VALUES (?, ?)",
                [(task_id, json.dumps(item)) for item in items],
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def conversation(self, task_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT item FROM conversation WHERE task_id = ? ORDER BY seq", (task_id,)
        ).fetchall()
        return [json.loads(row["item"]) for row in rows]
