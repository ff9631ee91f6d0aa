"""The board's filter: free words match title, id and repo; `status:NAME[,NAME]` matches status;
`is:archived` shows the archived tasks instead of the others."""

from __future__ import annotations

from dataclasses import dataclass

from tui.widgets.task_row import TaskRow

STATUS_PREFIX = "status:"
ARCHIVED = "is:archived"


@dataclass(frozen=True)
class TaskFilter:
    """Words that must all appear, the statuses allowed (empty: any), and whether the archived
    tasks show rather than the others."""

    words: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    archived: bool = False

    @classmethod
    def parse(cls, text: str) -> TaskFilter:
        words: list[str] = []
        statuses: set[str] = set()
        archived = False
        for token in text.lower().split():
            if token == ARCHIVED:
                archived = True
            elif token.startswith(STATUS_PREFIX):
                statuses.update(name for name in token[len(STATUS_PREFIX) :].split(",") if name)
            else:
                words.append(token)
        return cls(tuple(words), frozenset(statuses), archived)

    def matches(self, row: TaskRow) -> bool:
        if row.record.archived != self.archived:
            return False
        if self.statuses and row.record.status not in self.statuses:
            return False
        haystack = f"{row.title} {row.record.prompt} {row.id} {row.record.repo}".lower()
        return all(word in haystack for word in self.words)

    def __bool__(self) -> bool:
        return bool(self.words or self.statuses or self.archived)
