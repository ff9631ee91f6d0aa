"""`e` in a task tab's result: edit the chosen changes in $EDITOR, then accept what was saved."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import App, SuspendNotSupported
from textual.message import Message

from engine.errors import EngineError
from engine.views import AcceptRequest
from tui.editor import EditorError, edit_in_file, read_edited
from tui.present import plain
from tui.screens.task_actions import TaskActions, kept_notice


class PatchToEdit(Message):
    """The chosen changes of a task as a patch, ready to open in the editor."""

    def __init__(self, task_id: str, patch: str) -> None:
        super().__init__()
        self.task_id = task_id
        self.patch = patch


def edit_suspended(app: App[object], patch: str) -> Path:
    """Suspend `app`, hand the terminal to the editor on `patch` and return the saved file.

    The editor runs on the event loop on purpose: nothing may draw while it owns the terminal.
    """
    with app.suspend():
        return edit_in_file(patch)


class EditAcceptActions(TaskActions):
    """Editing the chosen patch before accepting it; the accept itself is TaskActions'."""

    def action_edit_accept(self) -> None:
        """Make the chosen changes a patch in a worker; PatchToEdit opens it in the editor."""
        chosen = self.chosen_changes()
        if chosen is None:
            return
        task, choice, _ = chosen

        async def work() -> None:
            try:
                patch = await self.client.chosen_patch(task.id, choice)
            except EngineError as error:
                self.notify(plain(str(error)), severity="error", markup=False)
                return
            self.post_message(PatchToEdit(task.id, patch))

        self.run_worker(work(), group="engine-calls")

    @on(PatchToEdit)
    async def patch_to_edit(self, message: PatchToEdit) -> None:
        """Edit the patch in the suspended app; cancel on an empty file, else ask the target."""
        try:
            edited = edit_suspended(self.app, message.patch)
        except SuspendNotSupported:
            self.notify(
                "This terminal cannot hand over to an editor: use `taskyard apply TASK --edit`",
                severity="error",
                markup=False,
            )
            return
        except EditorError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        patch = read_edited(edited)
        if not patch.strip():
            edited.unlink()
            self.notify("The edited patch is empty: cancelled, nothing was accepted")
            return
        try:
            task = await self.client.task(message.task_id)
        except EngineError as error:
            self.notify(f"{error}\n{kept_notice(edited)}", severity="error", markup=False)
            return
        await self.ask_target(task, "the edited patch", AcceptRequest(patch=patch), edited)
