"""Project settings from ``.worklanes.toml`` in the repository root (all optional).

    [lanes]
    dir = ".worktrees"            # where lane directories go (relative to the root)
    setup = "pip install -e ."    # run in a new lane after it is created
    setup_timeout = 600
    run_timeout = 300             # default timeout of `wt run`
    check = "pytest -q"           # must pass in a lane before `wt merge` integrates it
    check_timeout = 900

    [agent]
    max_parallel = 4              # lane agents running at once (dispatch, board agent)
    lane_token_budget = 200000    # tokens one lane agent may use; 0 or absent: no limit

Files listed in ``.worktreeinclude`` (one glob a line, ``#`` comments) are copied into
each new lane: gitignored things a lane needs, such as ``.env``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidInputError

CONFIG_FILE = ".worklanes.toml"
INCLUDE_FILE = ".worktreeinclude"


@dataclass(frozen=True)
class LaneConfig:
    dir: str = ".worktrees"
    setup: str = ""
    setup_timeout: float = 600.0
    run_timeout: float = 300.0
    check: str = ""
    check_timeout: float = 900.0


def _load_toml(path: Path) -> dict | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    import tomllib  # here: most repositories have no config file, and the app's start pays

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} is not valid TOML ({exc}); fix the file") from None


def load_lane_config(root: Path) -> LaneConfig:
    path = Path(root) / CONFIG_FILE
    data = _load_toml(path)
    if data is None:
        return LaneConfig()
    lanes = data.get("lanes", {})
    if not isinstance(lanes, dict):
        raise InvalidInputError(f"{path}: [lanes] must be a table")
    known = LaneConfig.__dataclass_fields__
    unknown = set(lanes) - set(known)
    if unknown:
        raise InvalidInputError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))} in [lanes]; "
            f"known: {', '.join(known)}")
    try:
        return LaneConfig(
            dir=str(lanes.get("dir", LaneConfig.dir)),
            setup=str(lanes.get("setup", "")),
            setup_timeout=float(lanes.get("setup_timeout", LaneConfig.setup_timeout)),
            run_timeout=float(lanes.get("run_timeout", LaneConfig.run_timeout)),
            check=str(lanes.get("check", "")),
            check_timeout=float(lanes.get("check_timeout", LaneConfig.check_timeout)),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{path}: bad value in [lanes] ({exc})") from None


@dataclass(frozen=True)
class LaneAgentConfig:
    max_parallel: int = 4
    lane_token_budget: int | None = None   # None: no limit


def load_lane_agent_config(root: Path) -> LaneAgentConfig:
    """The lane-agent keys of ``[agent]`` (other keys of that table belong to the agent's
    own settings and are left to them)."""
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


def include_patterns(root: Path) -> list[str]:
    try:
        text = (Path(root) / INCLUDE_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
