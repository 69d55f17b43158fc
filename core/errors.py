"""One exception family, so every front end can print a one-line message and move on."""

from __future__ import annotations

TYPE_CHECKING = False   # typing's own flag, without importing typing
if TYPE_CHECKING:
    from pathlib import Path


class WorklanesError(Exception):
    """An error whose message is one line that names the thing and the fix.

    The fix is often a command-line flag; ``ui`` is the same line for a front end with
    no flags (the app), when the wording differs. ``for_ui()`` gives it, or the message."""

    def __init__(self, message: str, ui: str | None = None):
        super().__init__(" ".join(str(message).split()))
        self.ui = " ".join(ui.split()) if ui else None

    def for_ui(self) -> str:
        return self.ui or str(self)


class NotARepoError(WorklanesError):
    pass


class NotFoundError(WorklanesError):
    pass


class InvalidInputError(WorklanesError):
    pass


class ConflictError(WorklanesError):
    pass


class GitError(WorklanesError):
    pass


class DirtyLaneError(ConflictError):
    pass


class LockedError(ConflictError):
    """A lock another live process holds."""


class CorruptFileError(WorklanesError):
    """A state file that cannot be parsed. It is reported and never rewritten."""

    def __init__(self, path: Path, reason: str):
        from pathlib import Path   # here: `wt diff` imports this module before pathlib

        self.path = Path(path)
        self.reason = " ".join(str(reason).split())
        super().__init__(
            f"{self.path} cannot be parsed ({self.reason}); it was left untouched - "
            "fix or move it away"
        )
