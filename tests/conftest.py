"""Shared fixtures: real git repositories in temporary folders, never mocks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test sees the developer's git config, API key or .env files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "MODEL_ID"):
        monkeypatch.delenv(k, raising=False)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for name, text in (files or {"README.md": "# demo\n"}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial commit")
    return path


def killed_create(ws, name: str) -> Path:
    """What a create killed inside `git worktree add` leaves: its intent record and a
    worktree git keeps locked "initializing", whose checkout never finished."""
    from core.lanes import ops
    path = ws.root / ".worktrees" / name
    git(ws.root, "worktree", "add", "-q", "-b", f"wt/{name}", str(path))
    git(ws.root, "worktree", "lock", "--reason", "initializing", str(path))
    (path / "README.md").unlink()
    head = git(ws.root, "rev-parse", "HEAD").strip()
    ws.lanes._insert({"name": name, "path": str(path), "branch": f"wt/{name}", "task_id": None,
                      "status": "active", "op": ops.new_op("create", base_commit=head)})
    return path


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository with one commit on ``main``."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def ws(repo):
    from core.workspace import Workspace
    return Workspace.open(repo)


@pytest.fixture
def in_repo(repo, monkeypatch) -> Path:
    monkeypatch.chdir(repo)
    return repo
