"""Telling the user, outside the app's window, that a lane agent needs an answer or has
finished: the terminal bell and a desktop notification (OSC 9 or OSC 777, which most
terminals and tmux pass on). Both are off unless asked for:

    [notify]                 # .worklanes.toml, or ~/.config/worklanes/config.toml
    bell = true
    desktop = "osc9"         # "osc9" | "osc777" | "off"

The project's file wins over the user's, key by key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core.config import CONFIG_FILE, _load_toml
from core.errors import InvalidInputError
from core.safe_text import visible

DESKTOP = ("off", "osc9", "osc777")


@dataclass(frozen=True)
class NotifySettings:
    bell: bool = False
    desktop: str = "off"

    @property
    def enabled(self) -> bool:
        return self.bell or self.desktop != "off"


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "worklanes" / "config.toml"


def load_notify_settings(root: Path) -> tuple[NotifySettings, str]:
    """(settings, the problem found or ""): a bad value is named and ignored (the
    defaults stand), never a reason to stop the app."""
    merged: dict[str, Any] = {}
    for path in (user_config_path(), Path(root) / CONFIG_FILE):
        try:
            table = (_load_toml(path) or {}).get("notify", {})
        except InvalidInputError as exc:
            return NotifySettings(), str(exc)
        if not isinstance(table, dict):
            return NotifySettings(), f"{path}: [notify] must be a table"
        unknown = set(table) - {"bell", "desktop"}
        if unknown:
            return NotifySettings(), (f"{path}: unknown key(s) {', '.join(sorted(unknown))} "
                                      "in [notify]; known: bell, desktop")
        if "bell" in table and not isinstance(table["bell"], bool):
            return NotifySettings(), f"{path}: [notify] bell must be true or false"
        if "desktop" in table and table["desktop"] not in DESKTOP:
            return NotifySettings(), (f"{path}: [notify] desktop must be one of "
                                      f"{', '.join(DESKTOP)}, got {table['desktop']!r}")
        merged.update(table)
    return NotifySettings(**merged), ""


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f;]")


def _clean(text: str) -> str:
    # What a model or a lane name put in a notification must not end the sequence early
    # or start another one: escapes made visible, then every control char and ';' gone.
    return _UNSAFE.sub(" ", visible(text)).strip()


def sequences(settings: NotifySettings, title: str, body: str) -> list[str]:
    """What to write to the terminal for one notification."""
    out = ["\a"] if settings.bell else []
    title, body = _clean(title), _clean(body)
    if settings.desktop == "osc9":
        out.append(f"\x1b]9;{title}: {body}\x07")
    elif settings.desktop == "osc777":
        out.append(f"\x1b]777;notify;{title};{body}\x07")
    return out


class Notifier:
    """Reads its settings when first used (most people never turn it on)."""

    def __init__(self, root: Path, write: Callable[[str], None],
                 report: Callable[[str], None]) -> None:
        self.root = root
        self.write = write
        self.report = report
        self._settings: NotifySettings | None = None

    def __call__(self, title: str, body: str) -> None:
        if self._settings is None:
            self._settings, problem = load_notify_settings(self.root)
            if problem:
                self.report(problem)
        for seq in sequences(self._settings, title, body):
            self.write(seq)
