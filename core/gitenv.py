"""The environment every git process worklanes starts runs in: ``core.git``'s, and the two
`wt diff` starts itself before anything else is imported (``core.lanes.diff_out``)."""

from __future__ import annotations

import os

from core.secrets import ALWAYS_DROP

TYPE_CHECKING = False   # typing's own flag, without importing typing
if TYPE_CHECKING:
    from typing import Mapping

# Keep git from paging, prompting or localising the messages we parse; and blank the
# Anthropic credentials, so a hook or any command git runs never sees them.
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C", "LANG": "C",
           "LANGUAGE": "C", **{name: "" for name in ALWAYS_DROP}}


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **GIT_ENV, **(extra or {})}
