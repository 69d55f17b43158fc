"""Agent settings: the seed's environment names, a project ``.env``, and flags.

Precedence, highest first: explicit arguments (command-line flags) > the process
environment > ``<root>/.env`` > defaults. The environment beats ``.env`` (the seed used
``load_dotenv(override=True)``, the other way round) because that is what every other
dotenv-aware tool does: a one-off ``MODEL_ID=... worklanes chat`` or a CI secret must win
over a file checked into the project folder. ``.env`` is read with ``dotenv_values``, so
loading a config never changes ``os.environ`` (and so never leaks the key to the commands
the agent runs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from core.errors import InvalidInputError

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-sonnet-4-6"   # not deprecated in anthropic 2.11 (4-5 is, EOL 2026-11-30)
POLICIES = ("ask", "auto")
ENV_KEY, ENV_BASE_URL, ENV_MODEL = "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "MODEL_ID"


@dataclass
class AgentConfig:
    api_key: str | None = None
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    max_tokens: int = 8000
    max_iterations: int = 25          # tool rounds per user message
    policy: str = "ask"               # ask: side-effecting tools need the host's approval
    max_retries: int = 2              # SDK retries of 429/529/5xx before a stream starts
    stream_attempts: int = 3          # tries of one model call whose stream breaks mid-way
    retry_base_delay: float = 0.5     # backoff before those tries: 0.5 s, 1 s, 2 s, ...
    request_timeout: float = 600.0    # seconds, per API request
    command_timeout: float | None = None  # bash: 120 s; worktree_run: the lane config's
    env_file: Path | None = None      # the .env that was consulted (for messages)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise InvalidInputError(f"unknown approval policy {self.policy!r}; use ask or auto")

    @classmethod
    def load(cls, root: Path, model: str | None = None, base_url: str | None = None,
             policy: str | None = None) -> "AgentConfig":
        env_file = Path(root) / ".env"
        file_values: dict[str, str | None] = {}
        if env_file.is_file():
            from dotenv import dotenv_values
            file_values = dict(dotenv_values(env_file))

        def pick(flag: str | None, name: str) -> str | None:
            for value in (flag, os.environ.get(name), file_values.get(name)):
                if value is not None and value.strip():
                    return value.strip()
            return None

        return cls(api_key=pick(None, ENV_KEY), base_url=pick(base_url, ENV_BASE_URL),
                   model=pick(model, ENV_MODEL) or DEFAULT_MODEL,
                   policy=(policy or "ask").strip(), env_file=env_file)

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)

    def missing_key_message(self) -> str:
        where = f"in {self.env_file}" if self.env_file else "in a .env file in the repository root"
        return f"no Anthropic API key: set {ENV_KEY} in the environment or {where}"

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "api_key":
                value = "***" if value else None
            shown.append(f"{f.name}={value!r}")
        return f"AgentConfig({', '.join(shown)})"

    __str__ = __repr__
