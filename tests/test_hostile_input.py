"""Hostile input through the real CLI: one clear line, a non-zero exit, nothing changed,
and the rest of the board keeps working."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from click.testing import CliRunner

from core.workspace import Workspace
from tests.conftest import git, make_repo
from tests.test_cli import wl as process
from tui.cli import main


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def wl(cwd: Path, *args: str, check: bool = True) -> Ran:
    """The CLI in this process (the path test below runs real processes)."""
    res = CliRunner().invoke(main, ["-C", str(cwd), *args], catch_exceptions=False)
    ran = Ran(res.exit_code, res.stdout, res.stderr)
    if check:
        assert ran.returncode == 0, ran.stderr
    return ran


def one_line(res, *texts: str) -> str:
    assert res.returncode != 0, res.stdout
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("worklanes: "), res.stderr
    assert "Traceback" not in res.stderr
    for text in texts:
        assert text in lines[0], lines[0]
    return lines[0]


def test_repository_path_with_spaces_tabs_and_non_ascii(tmp_path):
    repo = make_repo(tmp_path / "my repo\twith tab ü 漢")
    process(repo, "task", "add", "first")
    process(repo, "wt", "create", "a", "--task", "1")
    lane = repo / ".worktrees" / "a"
    assert "[>] #1: first  wt=a" in process(lane, "task", "list").stdout  # found from the lane too
    (lane / "n.txt").write_text("n\n")
    process(repo, "wt", "remove", "a", "--force")
    process(repo, "wt", "restore", "a")
    assert (lane / "n.txt").read_text() == "n\n"


@pytest.mark.parametrize("name", ["index.json", "events.jsonl", "x.tmp"])
def test_lane_names_that_collide_with_state_are_refused(repo, name):
    wl(repo, "task", "add", "t")
    one_line(wl(repo, "wt", "create", name, check=False), repr(name))
    assert not (repo / ".worktrees" / name).is_dir()
    wl(repo, "wt", "create", "fine")
    assert "fine" in wl(repo, "wt", "list").stdout


def test_a_file_in_the_lanes_folder_is_refused(repo):
    wl(repo, "task", "add", "t")
    (repo / ".worktrees" / "notes").write_text("mine\n")
    one_line(wl(repo, "wt", "create", "notes", check=False), "already exists")
    assert (repo / ".worktrees" / "notes").read_text() == "mine\n"


@pytest.mark.parametrize("base", ["--lock", "-x"])
def test_base_starting_with_a_dash_is_never_an_option(repo, base):
    one_line(wl(repo, "wt", "create", "b", "--base", base, check=False), "starts with '-'")
    ws = Workspace.open(repo)
    assert ws.lanes.list() == [] and git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert git(repo, "branch", "--list", "wt/*") == ""


def test_task_file_whose_id_differs_from_its_name(repo):
    wl(repo, "task", "add", "one")
    tasks = repo / ".tasks"
    (tasks / "task_3.json").write_text(json.dumps({"id": 1, "subject": "impostor"}))
    one_line(wl(repo, "task", "update", "3", "--status", "completed", check=False),
             "task_3.json", "its id is 1 but its file name says 3")
    assert json.loads((tasks / "task_1.json").read_text())["status"] == "pending"
    res = wl(repo, "task", "list", check=False)
    assert res.returncode == 2 and "[ ] #1: one" in res.stdout


@pytest.mark.parametrize("body, why", [({"id": 2, "blockedBy": 5}, "'blockedBy' must be a list"),
                                       ({"id": 2, "status": ["x"]}, "'status' must be a string"),
                                       ({"id": "2"}, "integer id")])
def test_task_file_of_the_wrong_shape(repo, body, why):
    wl(repo, "task", "add", "one")
    bad = repo / ".tasks" / "task_2.json"
    bad.write_text(json.dumps(body))
    res = wl(repo, "task", "list", check=False)
    assert res.returncode == 2 and "[ ] #1: one" in res.stdout and why in res.stderr
    one_line(wl(repo, "task", "show", "2", check=False), why)
    wl(repo, "task", "update", "1", "--owner", "ann")
    assert bad.read_text() == json.dumps(body)


def test_state_files_that_are_directories(repo):
    wl(repo, "task", "add", "one")
    (repo / ".tasks" / "task_2.json").mkdir()
    res = wl(repo, "task", "list", check=False)
    assert res.returncode == 2 and "task_2.json cannot be parsed (it is a directory" in res.stderr
    index = repo / ".worktrees" / "index.json"
    index.mkdir()
    one_line(wl(repo, "wt", "list", check=False), "index.json cannot be parsed")
    assert index.is_dir()
    assert "#1: one" in wl(repo, "task", "list", check=False).stdout


@pytest.mark.parametrize("entry, why", [({"path": "/x"}, "entry 0 has no 'name'"),
                                        ({"name": "a"}, "entry 0 has no 'path'"),
                                        ("lane", "entry 0 is not an object")])
def test_index_entries_of_the_wrong_shape(repo, entry, why):
    wl(repo, "task", "add", "one")
    index = repo / ".worktrees" / "index.json"
    text = json.dumps({"worktrees": [entry]})
    index.write_text(text)
    for args in (("wt", "list"), ("wt", "create", "z"), ("wt", "reconcile", "--fix")):
        one_line(wl(repo, *args, check=False), "index.json cannot be parsed", why)
    assert index.read_text() == text
    assert "#1: one" in wl(repo, "task", "list").stdout


def test_ids_of_any_length_and_negative_counts(repo):
    wl(repo, "task", "add", "one")
    one_line(wl(repo, "task", "show", "9" * 400, check=False), "out of range")
    one_line(wl(repo, "task", "block", "1", "--by", "-3", check=False), "out of range")
    one_line(wl(repo, "events", "-n", "-5", check=False), "-5", "events --help")
    one_line(wl(repo, "task", "show", "abc", check=False), "'abc' is not a valid integer")


@pytest.mark.parametrize("args", [("wt", "create"), ("task", "nope"), ("wt", "create", "x", "--base"),
                                  ("task", "list", "--status", "later")])
def test_usage_errors_are_one_line(repo, args):
    res = wl(repo, *args, check=False)
    assert res.returncode == 2
    one_line(res, "; see `")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to fill a disk")
def test_disk_full_on_the_event_log(repo):
    wl(repo, "task", "add", "one")
    log = repo / ".worktrees" / "events.jsonl"
    kept = log.read_bytes()
    log.unlink()
    log.symlink_to("/dev/full")  # every write there fails with ENOSPC
    one_line(wl(repo, "task", "add", "two", check=False), "events.jsonl", "No space left")
    log.unlink()
    log.write_bytes(kept)
    subjects = [t["subject"] for t in json.loads(wl(repo, "task", "list", "--json").stdout)]
    assert subjects == ["one", "two"]  # the task itself was written before the event


def test_torn_last_event_line(repo):
    wl(repo, "task", "add", "one")
    log = repo / ".worktrees" / "events.jsonl"
    with log.open("ab") as fh:
        fh.write(b'{"event": "torn.by.a.kill", "ts": 1')  # no newline
    wl(repo, "task", "add", "two")
    lines = log.read_bytes().split(b"\n")
    assert lines[-2].startswith(b'{"event": "task.created"') and lines[-1] == b""
    events = [json.loads(ln) for ln in lines if ln.strip() and not ln.startswith(b'{"event": "torn')]
    assert [e["event"] for e in events] == ["task.created", "task.created"]
    out = wl(repo, "events").stdout
    assert "unparsable line" in out and out.strip().endswith("#2 two")
