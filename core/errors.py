"""One exception family, so every front end can print a one-line message and move on."""

from __future__ import annotations

from pathlib import Path


class WorklanesError(Exception):
    """An error whose message is one line that names the thing and the fix."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


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
        self.path = Path(path)
        self.reason = " ".join(str(reason).split())
        super().__init__(
            f"{self.path} cannot be parsed ({self.reason}); it was left untouched - "
            "fix or move it away"
        )
