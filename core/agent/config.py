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

# The tool policy by effect (the table in the README). Read-only tools never ask; the
# effects listed in `[agent] ask` need the host's approval (policy "ask", the default).
EFFECTS = ("read", "board", "lane", "file_write", "command")
DEFAULT_ASK = ("lane", "file_write", "command")
AGENT_KEYS = ("ask", "env_drop")

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
    ask: tuple[str, ...] = DEFAULT_ASK   # effects that need approval (`[agent] ask`)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise InvalidInputError(f"unknown approval policy {self.policy!r}; use ask or auto")
        self.ask = tuple(self.ask)

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

        ask = agent_table(Path(root)).get("ask", DEFAULT_ASK)
        return cls(api_key=pick(None, ENV_KEY), base_url=pick(base_url, ENV_BASE_URL),
                   model=pick(model, ENV_MODEL) or DEFAULT_MODEL,
                   policy=(policy or "ask").strip(), env_file=env_file, ask=tuple(ask))

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


def agent_table(root: Path) -> dict[str, list[str]]:
    """The ``[agent]`` table of ``<root>/.worklanes.toml``, checked: ``ask`` (effects that
    need approval) and ``env_drop`` (glob patterns of variables commands never get).
    Absent keys are absent; a bad file or value raises one clear InvalidInputError."""
    from core.config import CONFIG_FILE
    path = Path(root) / CONFIG_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    import tomllib

    try:
        table = tomllib.loads(raw.decode("utf-8")).get("agent", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} is not valid TOML ({exc}); fix the file") from None
    if not isinstance(table, dict):
        raise InvalidInputError(f"{path}: [agent] must be a table")
    # The lane agents' keys of the same table are read (and checked) by
    # load_lane_agent_config below.
    table = {k: v for k, v in table.items() if k not in ("max_parallel", "lane_token_budget")}
    unknown = set(table) - set(AGENT_KEYS)
    if unknown:
        raise InvalidInputError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} in "
                                f"[agent]; known: {', '.join(AGENT_KEYS)}")
    for key, value in table.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInputError(f"{path}: [agent] {key} must be a list of strings, "
                                    f"e.g. {key} = {list(DEFAULT_ASK) if key == 'ask' else ['*_TOKEN']}")
    bad = [e for e in table.get("ask", []) if e not in EFFECTS or e == "read"]
    if bad:
        raise InvalidInputError(f"{path}: [agent] ask: unknown effect(s) {', '.join(bad)}; use "
                                f"some of {', '.join(EFFECTS[1:])} (read-only tools never ask)")
    return table


# The lane agents' keys of [agent]. Here, not in core.config, which every command reads
# on its way in: a dataclass costs more to define than a small board costs to list.
@dataclass(frozen=True)
class LaneAgentConfig:
    max_parallel: int = 4
    lane_token_budget: int | None = None   # None: no limit


def load_lane_agent_config(root: Path) -> LaneAgentConfig:
    """The lane-agent keys of ``[agent]`` (other keys of that table belong to the agent's
    own settings and are left to them)."""
    from core.config import CONFIG_FILE, _load_toml

    path = Path(root) / CONFIG_FILE
    table = (_load_toml(path) or {}).get("agent", {})
    if not isinstance(table, dict):
        raise InvalidInputError(f"{path}: [agent] must be a table")
    values = {}
    for key, floor in (("max_parallel", 1), ("lane_token_budget", 0)):
        value = table.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < floor:
            raise InvalidInputError(
                f"{path}: [agent] {key} must be a whole number >= {floor}, got {value!r}")
        values[key] = value
    if not values.get("lane_token_budget"):
        values.pop("lane_token_budget", None)
    return LaneAgentConfig(**values)
