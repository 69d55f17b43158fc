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


def _dying_git(tmp_path: Path, deaths: int) -> str:
    """A PATH whose ``git`` kills itself on its first ``deaths`` rev-parse calls (as the
    OOM killer or a stray signal would), then is the real git."""
    shim = tmp_path / "dying"
    shim.mkdir(parents=True)
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True,
                          text=True).stdout.strip()
    (shim / "git").write_text(
        "#!/bin/sh\n"
        'case " $* " in *" rev-parse "*)\n'
        f'  n=$(( $(cat "{shim}/n" 2>/dev/null || echo 0) + 1 )); echo $n > "{shim}/n"\n'
        f'  [ $n -le {deaths} ] && kill -9 $$;;\n'
        "esac\n"
        f'exec "{real}" "$@"\n')
    (shim / "git").chmod(0o755)
    return f"{shim}{os.pathsep}{os.environ['PATH']}"


def test_a_git_killed_while_naming_a_ref_is_not_read_as_an_unknown_ref(repo, tmp_path,
                                                                       monkeypatch):
    from core import git as core_git
    from core.errors import GitError

    ws = Workspace.open(repo)
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", _dying_git(tmp_path, deaths=1))
    assert ws.lanes.create("once", base_ref="main").lane["name"] == "once"   # asked again
    monkeypatch.setenv("PATH", _dying_git(tmp_path / "always", deaths=10 ** 6))
    with pytest.raises(GitError) as err:
        core_git.verify("main", repo)
    assert "rev-parse main failed" in str(err.value)
    assert core_git.verify("main", repo, lenient=True) == ""    # a checkout that may be gone
    monkeypatch.setenv("PATH", path)
    assert core_git.verify("no-such-branch", repo) == ""        # unknown is still just ""
