"""Project settings from ``.worklanes.toml`` in the repository root (all optional).

    [lanes]
    dir = ".worktrees"            # where lane directories go (relative to the root)
    setup = "pip install -e ."    # run in a new lane after it is created
    setup_timeout = 600
    run_timeout = 300             # default timeout of `wt run`
    check = "pytest -q"           # must pass in a lane before `wt merge` integrates it
    check_timeout = 900
    archive_exclude = ["node_modules/", "*.pyc"]  # build/cache output removal drops

    [agent]
    max_parallel = 4              # lane agents running at once (dispatch, board agent)
    lane_token_budget = 200000    # tokens one lane agent may use; 0 or absent: no limit

Files listed in ``.worktreeinclude`` (one glob a line, ``#`` comments) are copied into
each new lane: gitignored things a lane needs, such as ``.env``. Patterns must stay
inside the main checkout.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from core.errors import InvalidInputError
from core.paths import STATE_DIR
from core.plain import record

CONFIG_FILE = ".worklanes.toml"
INCLUDE_FILE = ".worktreeinclude"
# Build and cache output: ignored files a forced removal drops instead of saving
# (everything else ignored, such as an edited .env, is work and is saved).
ARCHIVE_EXCLUDE = ("node_modules/", ".venv/", "venv/", "__pycache__/", "*.pyc", "*.pyo",
                   "target/", "dist/", "build/", ".pytest_cache/", ".mypy_cache/",
                   ".ruff_cache/", ".tox/", "*.egg-info/", ".coverage", ".DS_Store")


@record(frozen=True)
class LaneConfig:
    dir: str = STATE_DIR
    setup: str = ""
    setup_timeout: float = 600.0
    run_timeout: float = 300.0
    check: str = ""
    check_timeout: float = 900.0
    archive_exclude: tuple[str, ...] = ARCHIVE_EXCLUDE


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
    known = LaneConfig.__record_fields__
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
            archive_exclude=_patterns(lanes.get("archive_exclude", list(ARCHIVE_EXCLUDE)), path),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{path}: bad value in [lanes] ({exc})") from None


def _patterns(value: object, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{path}: [lanes] archive_exclude must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def include_patterns(root: Path) -> list[str]:
    """The globs of ``.worktreeinclude``; a pattern that could reach outside the main
    checkout (absolute, or with a ``..`` part) is refused with the line it is on."""
    path = Path(root) / INCLUDE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} cannot be read ({exc}); fix or remove it") from None
    out = []
    for no, line in enumerate(text.splitlines(), 1):
        pat = line.strip()
        if not pat or pat.startswith("#"):
            continue
        if os.path.isabs(pat) or pat.startswith("~") or ".." in PurePosixPath(pat).parts:
            raise InvalidInputError(
                f"{path} line {no}: pattern {pat!r} points outside the repository; use a path "
                "relative to the repository root without '..'")
        out.append(pat)
    return out


def include_sources(root: Path, skip_top: tuple[str, ...] = ()) -> list[Path]:
    """The files and folders ``.worktreeinclude`` names, checked before anything is
    created: every match, and every symlink in a matched folder, must stay inside the
    main checkout."""
    root = Path(root)
    real_root = root.resolve()
    sources = []
    for pattern in include_patterns(root):
        for src in sorted(root.glob(pattern)):
            rel = src.relative_to(root)
            if rel.parts and rel.parts[0] in skip_top:
                continue
            for item in [src, *(_walk(src) if src.is_dir() and not src.is_symlink() else [])]:
                if item.is_symlink() and not item.resolve().is_relative_to(real_root):
                    raise InvalidInputError(
                        f"{INCLUDE_FILE}: {item.relative_to(root)} is a symlink to "
                        f"{os.readlink(item)}, outside the repository; remove it or the pattern "
                        f"{pattern!r}")
            sources.append(src)
    return sources


def _walk(folder: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        out += [Path(dirpath, n) for n in dirnames + filenames]
    return out
