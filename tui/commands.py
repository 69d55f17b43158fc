"""Command palette (ctrl+p): every key of the app as a command, with its key shown, so
nothing is reachable only by a key one has to remember."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui import keys

_PANE_TITLE = {"tasks": "Task", "lanes": "Lane", "global": "App", "chat": "Chat"}


class WorklanesCommands(Provider):
    def _commands(self):
        keymap = getattr(self.app, "keymap", {}) or {}
        for spec in keys.KEYS:
            key = keymap.get(spec.id, spec.shown_as or spec.key)
            name = f"{_PANE_TITLE[spec.pane]}: {spec.label} ({keys.key_display(key)})"
            yield name, partial(self.app.run_action, spec.action), spec.help

    async def discover(self) -> Hits:
        for name, run, help_text in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._commands():
            score = max(matcher.match(name), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
