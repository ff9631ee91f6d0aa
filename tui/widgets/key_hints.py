"""The footer: the keys that apply to what is shown, on one line.

Textual's Footer rebuilds a widget per key on every focus change; with a dozen keys that is a
mount of a dozen widgets per tab switch, the largest cost of switching tabs while tasks stream.
This footer is one widget whose text is rebuilt only when the keys or their states change.
"""

from __future__ import annotations

from textual.app import App
from textual.binding import ActiveBinding, Binding
from textual.content import Content
from textual.screen import Screen
from textual.style import Style

from tui.widgets.fixed_static import FixedStatic

HINT_GAP = "  "
KEPT_ACTIONS = ("help", "quit_board")
"""The key that lists every key and the one that quits: their hints never give way."""
GIVE_WAY_FIRST = ("command_palette", "filter", "archive", "retry", "close_tab")
"""Keys whose hints leave a footer too narrow for all, in this order, before any other."""


def key_hint(app: App[object], binding: Binding, enabled: bool) -> Content:
    """The key, then what it does; dimmed if unavailable; a click presses the key."""
    click = Style.from_meta({"@click": f"app.simulate_key({binding.key!r})"})
    hint = Content.assemble(
        (f" {app.get_key_display(binding)} ", "bold $footer-key-foreground"),
        (binding.description, "$footer-description-foreground"),
    ).stylize(click)
    return hint if enabled else hint.stylize("dim")


Hint = tuple[str, Content]
"""An action and its hint."""


def key_hints(app: App[object], bindings: dict[str, ActiveBinding]) -> list[Hint]:
    """One hint per action marked to show, then the command palette's key."""
    hints: list[Hint] = []
    actions_seen: set[str] = set()
    for _node, binding, enabled, _tooltip in bindings.values():
        if binding.show and binding.action not in actions_seen:
            actions_seen.add(binding.action)
            hints.append((binding.action, key_hint(app, binding, enabled)))
    palette = bindings.get(app.COMMAND_PALETTE_BINDING)
    if app.ENABLE_COMMAND_PALETTE and palette is not None:
        hints.append((palette.binding.action, key_hint(app, palette.binding, palette.enabled)))
    return hints


def joined(hints: list[Hint]) -> Content:
    return Content(HINT_GAP).join([hint for _action, hint in hints])


def fitted(hints: list[Hint], width: int) -> Content:
    """The hints that fit in width: the board-wide keys in GIVE_WAY_FIRST go first, then the
    last ones; the KEPT_ACTIONS stay, at the end."""
    shown = list(hints)
    for action in GIVE_WAY_FIRST:
        if width <= 0 or joined(shown).cell_length <= width:
            return joined(shown)
        shown = [hint for hint in shown if hint[0] != action]
    keep = [hint for hint in shown if hint[0] in KEPT_ACTIONS]
    rest = [hint for hint in shown if hint[0] not in KEPT_ACTIONS]
    while rest and joined(rest + keep).cell_length > width:
        rest.pop()
    return joined(rest + keep)


class KeyHints(FixedStatic):
    """The keys of the focused widget, its screen and the app that are marked to show."""

    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_resize(self) -> None:
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Redraw only if the hints differ from what is shown (one line: no layout); what does
        not fit gives way to the help key."""
        if screen is not self.screen:
            return
        hints = fitted(key_hints(self.app, screen.active_bindings), self.size.width)
        self.show_content(hints)
