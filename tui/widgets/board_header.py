"""The line above the board: the repository and how many tasks are in each state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from textual.content import Content

from engine.views import TaskStatus
from tui.widgets.fixed_static import FixedStatic
from tui.widgets.task_row import TaskRow

SHOWN_COUNTS = ("active", TaskStatus.READY, TaskStatus.FAILED)
HOST_MARKS = {
    "connected": ("●", "$success"),
    "connecting": ("◌", "$warning"),
    "reconnecting": ("◌", "$warning"),
    "down": ("✗", "$error"),
}


def host_line(hosts: dict[str, str]) -> Content:
    """`hosts: local ● connected · build ◌ reconnecting`; hosts not reached yet are dim."""
    parts: list[Content] = []
    for name, state in hosts.items():
        mark, style = HOST_MARKS.get(state, ("·", "dim"))
        parts.append(Content.assemble(f"{name} ", (f"{mark} {state}", style)))
    return Content.assemble(("hosts: ", "dim"), Content(" · ").join(parts))


class BoardHeader(FixedStatic):
    """`taskyard  REPO  ·  2 active · 1 ready` over each host's state (in the demo, a DEMO badge
    before the repository and the demo model named before the hosts): two lines, redrawn when
    they change, with no layout of the screen."""

    def show(
        self, repo: str, rows: Iterable[TaskRow], hosts: dict[str, str], demo: bool = False
    ) -> None:
        """Show the repository, the counts and the hosts; a demo says so before all."""
        counts: Counter[str] = Counter()
        for row in rows:
            counts["active" if row.is_active else row.record.status] += 1
        parts = [f"{counts[name]} {name}" for name in SHOWN_COUNTS if counts[name]]
        counts_text = ("  ·  " + " · ".join(parts), "dim") if parts else ""
        badge = Content.assemble((" DEMO ", "bold reverse $warning"), " ") if demo else ""
        title = Content.assemble(("taskyard", "bold"), "  ", badge, repo, counts_text)
        hosts_text = host_line(hosts)
        if demo:
            hosts_text = Content.assemble(("offline demo model · ", "$warning"), hosts_text)
        self.show_content(Content("\n").join([title, hosts_text]))
