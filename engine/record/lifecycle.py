"""The one owner of task status: every transition is checked, written, then announced."""

from __future__ import annotations

from engine.record.bus import EventBus
from engine.record.states import check_transition
from engine.record.store import Store
from engine.views.events import TaskStatusChanged
from engine.views.task import InvalidTransition, TaskStatus


class TaskLifecycle:
    """Moves tasks between statuses; nothing else writes a task's status."""

    def __init__(self, store: Store, bus: EventBus) -> None:
        self._store = store
        self._bus = bus

    def move(
        self, task_id: str, new: TaskStatus, detail: str = "", error: str | None = None
    ) -> None:
        """Check the task's current status -> `new` with the state machine, write it (with
        `error`, when given), then emit TaskStatusChanged. InvalidTransition when it is not
        allowed, or when the task's status changed meanwhile."""
        current = self._current(task_id)
        check_transition(current, new)
        if not self._store.write_status(task_id, current, new, error):
            raise InvalidTransition(f"task {task_id} is no longer {current}: not moved to {new}")
        self._bus.emit(TaskStatusChanged(task_id=task_id, status=new, detail=detail))

    def _current(self, task_id: str) -> TaskStatus:
        task = self._store.get_task(task_id)
        if task is None:
            raise InvalidTransition(f"no task {task_id} to move")
        return task.status
