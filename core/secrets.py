"""Keep credentials out of the processes worklanes starts and out of everything it writes.

Two layers. The real one: commands (the agent's bash and worktree_run, `worklanes wt run`,
lane setup commands) get an environment without the Anthropic credentials
(``ALWAYS_DROP``) and without the variables ``[agent] env_drop`` in ``.worklanes.toml``
names (glob patterns, ``DEFAULT_ENV_DROP`` when unset), nor any variable whose value
holds a known secret. A command cannot print a key it never received.

The second layer catches what slips through another way (a key pasted into a prompt, a
file that holds it): ``scrub`` replaces a known secret in text as written, reversed, in
upper or lower case, hex-encoded or base64-encoded (at any byte alignment), also when a
tool wrapped it over several lines (``base64`` wraps at 76 columns, ``fold`` anywhere).
Transcripts, events, task files and tool output all pass through it. Known secrets are
the values of ``ALWAYS_DROP`` in the environment plus those ``register``-ed (the agent
registers the key it was configured with, which may come from ``.env``).
"""

from __future__ import annotations

import os
import re
import threading

TYPE_CHECKING = False   # typing's own flag, without importing typing
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Iterable, Mapping

ALWAYS_DROP = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
# What `[agent] env_drop` means when a project does not set it. Setting it replaces this
# list (ALWAYS_DROP stays dropped either way); `env_drop = []` passes everything else on.
DEFAULT_ENV_DROP = ("*_API_KEY", "*_AUTH_TOKEN", "*_ACCESS_TOKEN", "*_SECRET_ACCESS_KEY",
                    "*_SESSION_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "NPM_TOKEN")
MASK = "***"
MIN_SECRET = 8   # shorter values are too likely to occur by chance to be masked

_registered: set[str] = set()
_lock = threading.Lock()
_compiled: dict[frozenset[str], re.Pattern[str]] = {}


def register(value: str | None) -> None:
    """Treat ``value`` as a secret for the rest of this process."""
    if value and len(value) >= MIN_SECRET:
        with _lock:
            _registered.add(value)


def known_secrets() -> frozenset[str]:
    found = {os.environ.get(name) or "" for name in ALWAYS_DROP}
    with _lock:
        found |= _registered
    return frozenset(v for v in found if len(v) >= MIN_SECRET)


# -- environments for child processes --------------------------------------------------------

def env_drop_of(root: Path | str | None) -> tuple[str, ...]:
    """The project's ``[agent] env_drop`` patterns (the defaults without a setting)."""
    if root is None:
        return DEFAULT_ENV_DROP
    from pathlib import Path

    from core.agent.config import agent_table   # the one reader of [agent]
    value = agent_table(Path(root)).get("env_drop")
    return DEFAULT_ENV_DROP if value is None else tuple(value)


def child_env(drop: Iterable[str] = DEFAULT_ENV_DROP,
              base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (the process environment) without the credentials: ALWAYS_DROP, names
    matching a ``drop`` pattern (case-insensitive), and any value holding a secret."""
    import fnmatch   # here: core.git imports this module on the way to the first paint

    env = dict(os.environ if base is None else base)
    patterns = [p.upper() for p in (*ALWAYS_DROP, *drop)]
    secrets = known_secrets()
    for name in list(env):
        upper = name.upper()
        if (any(fnmatch.fnmatchcase(upper, p) for p in patterns)
                or any(s in env[name] for s in secrets)):
            del env[name]
    return env


# -- scrubbing ---------------------------------------------------------------------------------

def _flexible(form: str) -> str:
    """A regex for ``form`` that also matches it broken over lines at any point."""
    return r"\s*".join(re.escape(ch) for ch in form)


def _base64_cores(secret: bytes) -> list[str]:
    """The part of the base64 of ``secret`` that does not depend on what precedes it or
    follows it, for each of the three byte alignments, in both alphabets."""
    import base64

    cores = []
    for skip in range(3):
        enc = base64.b64encode(b"\0" * skip + secret).decode()
        lead = (skip * 8 + 5) // 6          # characters touched by the padding bytes
        usable = (len(secret) + skip) * 8 // 6
        core = enc[lead:usable]
        if len(core) >= MIN_SECRET:
            cores += [core, core.replace("+", "-").replace("/", "_")]
    return cores


def _pattern(secrets: frozenset[str]) -> re.Pattern[str]:
    pat = _compiled.get(secrets)
    if pat is None:
        parts = []
        for s in sorted(secrets, key=len, reverse=True):
            raw = s.encode()
            parts += [f"(?i:{_flexible(s)})", f"(?i:{_flexible(s[::-1])})",
                      f"(?i:{_flexible(raw.hex())})"]
            parts += [_flexible(core) for core in dict.fromkeys(_base64_cores(raw))]
        pat = re.compile("|".join(parts))
        _compiled[secrets] = pat
    return pat


def scrub(text: str) -> str:
    """``text`` with every known secret (and its encodings above) replaced by ``***``."""
    secrets = known_secrets()
    if not secrets or not text:
        return text
    return _pattern(secrets).sub(MASK, text)


def scrub_obj(obj: Any) -> Any:
    """The same for every string in a JSON-like value (dict keys included)."""
    if not known_secrets():
        return obj
    return _scrub_obj(obj)


def _scrub_obj(obj: Any) -> Any:
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {_scrub_obj(k): _scrub_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_scrub_obj(v) for v in obj]
    return obj
