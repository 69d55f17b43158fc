"""Finding the repository without a git process gives git's own answer, and leaves
every layout it does not read plainly to git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from core.errors import NotARepoError
from core.repo import _ask_git, _read_layout, find_repo
from core.workspace import Workspace


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_the_layout_read_agrees_with_git_in_the_plain_places(repo):
    ws = Workspace.open(repo)
    lane_dir = Path(ws.lanes.create("lane-a").lane["path"])
    (repo / "sub" / "deeper").mkdir(parents=True)
    lane_sub = repo / ".worktrees" / "lane-a" / "nested"
    lane_sub.mkdir()
    for where in (repo, repo / "sub" / "deeper", repo / ".worktrees", lane_dir, lane_sub):
        read = _read_layout(where)
        assert read is not None, where
        assert read == _ask_git(where), where
    assert _read_layout(lane_dir).git_dir.name == "lane-a"   # the lane's own git dir
    assert find_repo(lane_sub).root == repo.resolve()


def test_layouts_it_does_not_read_plainly_are_left_to_git(repo, tmp_path, monkeypatch):
    # Inside the git dir itself.
    assert _read_layout(repo / ".git" / "refs") is None
    assert find_repo(repo / ".git" / "refs").root == repo.resolve()
    # A separate git dir (as submodules have): git's answer, and its refusal.
    sep = tmp_path / "separate"
    sep.mkdir()
    git(sep, "init", "-q", "--separate-git-dir", str(tmp_path / "elsewhere.git"))
    assert _read_layout(sep) is None
    with pytest.raises(NotARepoError, match="separate git dir"):
        find_repo(sep)
    # core.worktree moves the working tree; a bare repository has none.
    git(repo, "config", "core.worktree", str(repo))
    assert _read_layout(repo) is None
    git(repo, "config", "--unset", "core.worktree")
    assert _read_layout(repo) is not None
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    assert _read_layout(bare) is None
    with pytest.raises(NotARepoError, match="bare repository"):
        find_repo(bare)
    # Variables that tell git where to look.
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert _read_layout(repo) is None
    monkeypatch.delenv("GIT_DIR")
    # Not a repository at all: git says so, in one line.
    alone = tmp_path / "alone"
    alone.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(NotARepoError, match="not inside a git repository"):
        find_repo(alone)


def test_a_broken_dot_git_file_is_left_to_git(repo, tmp_path):
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / ".git").write_text("not a gitdir line\n")
    assert _read_layout(odd) is None
    (odd / ".git").write_text(f"gitdir: {tmp_path / 'missing'}\n")
    assert _read_layout(odd) is None
    assert os.path.exists(odd / ".git")   # only read
