"""The `worklanes` command line, every command, against real repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import git
from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(repo):
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        res = runner.invoke(main, ["-C", str(repo), *args], catch_exceptions=False)
        assert res.exit_code == code, (res.output, res.stderr if hasattr(res, "stderr") else "")
        return res
    return invoke


def wl(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The real thing: a separate process, as a user runs it."""
    res = subprocess.run([sys.executable, "-m", "tui", *args], cwd=cwd, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def test_task_commands(cli):
    assert json.loads(cli("task", "add", "Backend auth", "-d", "tokens", "--json").output)["id"] == 1
    assert "#2: Frontend" in cli("task", "add", "Frontend", "--blocked-by", "1").output
    out = cli("task", "list").output
    assert "[ ] #1: Backend auth" in out and "blocked by #1" in out
    assert [t["id"] for t in json.loads(cli("task", "list", "--ready", "--json").output)] == [1]
    assert json.loads(cli("task", "show", "1", "--json").output)["description"] == "tokens"
    assert "subject: Backend auth" in cli("task", "show", "1").output
    t = json.loads(cli("task", "update", "1", "--status", "in_progress", "--owner", "ann", "--json").output)
    assert (t["status"], t["owner"]) == ("in_progress", "ann")
    assert json.loads(cli("task", "list", "--status", "in_progress", "--json").output)[0]["id"] == 1
    cli("task", "unblock", "2", "--by", "1")
    assert json.loads(cli("task", "block", "2", "--by", "1", "--json").output)["blockedBy"] == [1]
    res = cli("task", "block", "1", "--by", "2", code=1)
    assert "cycle" in res.output
    cli("task", "update", "1", "--subject", "Auth v2")
    assert "#1: Auth v2" in cli("task", "list").output


def test_errors_are_one_line_and_nonzero(cli):
    for args, text in [(("task", "show", "42"), "task 42 does not exist"),
                       (("wt", "create", "--", "-x"), "invalid lane name '-x'"),
                       (("wt", "create", "../x"), "invalid lane name"),
                       (("wt", "keep", "ghost"), "lane 'ghost' is not in the index"),
                       (("wt", "create", "b", "--base", "nope"), "base ref 'nope' is unknown"),
                       (("task", "update", "1", "--subject", "x"), "task 1 does not exist")]:
        res = cli(*args, code=1)
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("worklanes: ") and text in lines[0], lines


def test_not_a_repo_message(tmp_path):
    res = wl(tmp_path, "task", "list", check=False)
    assert res.returncode == 1
    assert res.stderr.strip() == f"worklanes: {tmp_path} is not inside a git repository; cd into one or run `git init` first"
    assert "Traceback" not in res.stderr


def test_corrupt_task_listed_as_error_rest_still_shown(cli, repo):
    cli("task", "add", "fine")
    (repo / ".tasks" / "task_2.json").write_text("{nope")
    res = cli("task", "list", code=2)
    assert "[ ] #1: fine" in res.output and "task_2.json cannot be parsed" in res.output
    assert (repo / ".tasks" / "task_2.json").read_text() == "{nope"


def write_tasks(repo: Path, tasks: list[dict]) -> None:
    """Task files as the seed (or any writer) leaves them: blockers may name later ids."""
    for t in tasks:
        full = {"subject": f"task {t['id']}", "description": "", "status": "pending", "owner": "",
                "worktree": "", "blockedBy": [], "blocks": [], "created_at": 1.0,
                "updated_at": 1.0, **t}
        (repo / ".tasks" / f"task_{t['id']}.json").write_text(json.dumps(full, indent=2))


def test_task_list_streams_in_id_order_with_marks_of_later_blockers(cli, repo):
    """A task waiting on one with a later id (read after it) still gets its mark, and
    the lines stay in id order; a blocker that is gone or completed blocks nothing."""
    cli("task", "list")   # makes .tasks/
    write_tasks(repo, [
        {"id": 1, "blockedBy": [5]},                       # 5 is pending: blocked
        {"id": 2, "blockedBy": [6]},                       # 6 is completed: ready
        {"id": 3, "blockedBy": [99]},                      # gone: ready
        {"id": 4, "blockedBy": [1], "owner": "ann"},       # an earlier one, still open
        {"id": 5, "status": "in_progress", "owner": "ann"},
        {"id": 6, "status": "completed", "blockedBy": [7]},
        {"id": 7}])
    (repo / ".tasks" / "task_8.json").write_text("{broken")
    res = cli("task", "list", code=2)
    lines = [ln for ln in res.output.splitlines() if ln.startswith("[")]
    assert lines == ["[ ] #1: task 1  blocked by #5", "[ ] #2: task 2", "[ ] #3: task 3",
                     "[ ] #4: task 4  owner=ann  blocked by #1", "[>] #5: task 5  owner=ann",
                     "[x] #6: task 6  blocked by #7", "[ ] #7: task 7"]
    assert "task_8.json cannot be parsed" in res.output
    ready = json.loads(cli("task", "list", "--ready", "--json", code=2).stdout)
    assert [t["id"] for t in ready] == [2, 3, 7]
    ann = cli("task", "list", "--owner", "ann", code=2).stdout.splitlines()
    assert ann == ["[ ] #4: task 4  owner=ann  blocked by #1", "[>] #5: task 5  owner=ann"]
    pending = json.loads(cli("task", "list", "--status", "pending", "--json", code=2).stdout)
    assert [t["id"] for t in pending] == [1, 2, 3, 4, 7]
    (repo / ".tasks" / "task_8.json").unlink()
    # Streamed JSON is what dumping the whole list at once printed.
    everything = [json.loads((repo / ".tasks" / f"task_{i}.json").read_text()) for i in range(1, 8)]
    assert cli("task", "list", "--json").stdout == json.dumps(
        everything, indent=2, ensure_ascii=False) + "\n"
    assert cli("task", "list", "--ready", "--owner", "nobody", "--json").stdout == "[]\n"


def test_task_list_of_a_big_board_is_whole_and_in_order(cli, repo):
    cli("task", "list")
    n = 3000
    # Every 7th waits on the task 500 ids later (open), every 11th on an earlier one.
    write_tasks(repo, [{"id": i, "blockedBy": [i + 500] if i % 7 == 0 and i + 500 <= n
                        else [i - 1] if i % 11 == 0 else []} for i in range(1, n + 1)])
    lines = cli("task", "list").stdout.splitlines()
    assert [int(ln.split("#")[1].split(":")[0]) for ln in lines] == list(range(1, n + 1))
    assert lines[6] == "[ ] #7: task 7  blocked by #507"
    assert lines[10] == "[ ] #11: task 11  blocked by #10"
    assert len(json.loads(cli("task", "list", "--ready", "--json").stdout)) == n - sum(
        1 for i in range(1, n + 1) if (i % 7 == 0 and i + 500 <= n) or i % 11 == 0)


def test_lane_commands(cli, repo):
    cli("task", "add", "Backend auth")
    lane = json.loads(cli("wt", "create", "auth", "--task", "1", "--json").output)
    assert lane["branch"] == "wt/auth" and lane["task_id"] == 1
    assert "created lane ui" in cli("wt", "create", "ui").output
    Path(lane["path"], "new.txt").write_text("hi\n")
    out = cli("wt", "list").output
    assert "[active]  auth  #1  wt/auth  dirty=1" in out
    listed = json.loads(cli("wt", "list", "--json").output)
    assert listed[0]["live"]["dirty"] == 1
    assert "dirty: 1" in cli("wt", "status", "auth").output
    assert json.loads(cli("wt", "status", "auth", "--json").output)["dirty"] == 1
    assert "?? new.txt" in cli("wt", "diff", "auth").output
    res = cli("wt", "run", "auth", "--", "git", "status", "--short")
    assert "?? new.txt" in res.output
    cli("wt", "run", "auth", "--", "sh", "-c", "exit 4", code=4)
    assert "kept lane ui" in cli("wt", "keep", "ui").output
    res = cli("wt", "remove", "auth", code=1)
    assert "uncommitted change" in res.output
    res = cli("wt", "remove", "auth", "--force", "--complete-task")
    assert "saved under refs/worklanes/archive/auth" in res.output
    assert json.loads(cli("task", "show", "1", "--json").output)["status"] == "completed"
    assert "[removed]  auth" in cli("wt", "list", "--all").output
    assert "auth" not in cli("wt", "list").output.split("ui")[0].replace("[kept]", "")
    cli("wt", "restore", "auth")
    assert Path(lane["path"], "new.txt").read_text() == "hi\n"
    assert "index and git agree." in cli("wt", "reconcile").output
    import shutil
    shutil.rmtree(lane["path"])
    assert "missing" in cli("wt", "reconcile").output
    fixed = json.loads(cli("wt", "reconcile", "--fix", "--json").output)
    assert {f["kind"] for f in fixed if f["fixed"]} >= {"missing"}


def test_events_command_and_follow(cli, repo):
    cli("task", "add", "a")
    cli("wt", "create", "x", "--task", "1")
    out = cli("events", "-n", "2").output.splitlines()
    assert out[0].split()[1] == "task.updated" and out[1].split()[1] == "worktree.create.after"
    lines = cli("events", "--json").output.splitlines()
    assert json.loads(lines[-1])["worktree"]["name"] == "x"
    proc = subprocess.Popen([sys.executable, "-m", "tui", "events", "-f", "-n", "0"], cwd=repo,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        time.sleep(1.0)  # let the watcher start before we append
        wl(repo, "task", "add", "appended later")
        line = proc.stdout.readline()
        assert "task.created" in line and "#2 appended later" in line
    finally:
        proc.kill()
        proc.wait()


def test_five_try_it_steps_through_the_cli(repo):
    # 1. Create tasks for backend auth and the frontend login page, then list tasks.
    wl(repo, "task", "add", "Backend auth")
    wl(repo, "task", "add", "Frontend login page")
    out = wl(repo, "task", "list").stdout
    assert "[ ] #1: Backend auth" in out and "[ ] #2: Frontend login page" in out
    # 2. Worktree "auth-refactor" for task 1, then bind task 2 to a new worktree "ui-login".
    wl(repo, "wt", "create", "auth-refactor", "--task", "1")
    wl(repo, "wt", "create", "ui-login", "--task", "2")
    out = wl(repo, "task", "list").stdout
    assert "[>] #1: Backend auth  wt=auth-refactor" in out and "[>] #2: Frontend login page  wt=ui-login" in out
    # 3. Run "git status --short" in auth-refactor.
    res = wl(repo, "wt", "run", "auth-refactor", "--", "git status --short")
    assert res.stdout.strip() == "(no output)"
    # 4. Keep ui-login, list worktrees, look at the events.
    wl(repo, "wt", "keep", "ui-login")
    out = wl(repo, "wt", "list").stdout
    assert "[kept]  ui-login" in out and "[active]  auth-refactor" in out
    assert "worktree.keep" in wl(repo, "events").stdout
    # 5. Remove auth-refactor with complete_task, then list tasks / worktrees / events.
    wl(repo, "wt", "remove", "auth-refactor", "--complete-task")
    assert "[x] #1: Backend auth" in wl(repo, "task", "list").stdout
    assert "[removed]  auth-refactor" in wl(repo, "wt", "list", "--all").stdout
    tail = wl(repo, "events", "-n", "3").stdout
    assert "worktree.remove.before" in tail and "task.completed" in tail and "worktree.remove.after" in tail
    assert git(repo, "status", "--porcelain") == ""


def test_block_on_a_completed_task_is_one_clear_line(cli):
    cli("task", "add", "Done already")
    cli("task", "add", "Other")
    cli("task", "update", "1", "--status", "completed")
    res = cli("task", "block", "1", "--by", "2", code=1)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert lines == ["worklanes: task 1 is completed; reopen it (status pending) before it "
                     "can wait on another task"]
    assert json.loads(cli("task", "show", "1", "--json").output)["blockedBy"] == []
    assert "repeat for several" in cli("task", "add", "--help").output


def test_events_refuses_a_negative_count(cli):
    res = cli("events", "-n", "-5", code=2)
    assert "-5 is not in the range" in res.output


def test_config_check_reports_each_remapping_problem_once(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert "no config file" in cli("config", "check").output
    cfg = tmp_path / "cfg" / "worklanes"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text('[keys]\n"task.new" = "s"\n"no.such" = "x"\n'
                                     '"lane.keep" = "K"\n"app.quit" = 3\n')
    res = cli("config", "check", code=1)
    lines = [ln for ln in res.output.splitlines() if ln.startswith("worklanes:")]
    assert len(lines) == 3
    assert any("task.new = 's' clashes with task.status" in ln for ln in lines)
    assert any("unknown binding id 'no.such'" in ln for ln in lines)
    assert any("app.quit must be a string" in ln for ln in lines)
    (cfg / "config.toml").write_text('[keys\n')
    assert "not valid TOML" in cli("config", "check", code=1).output
    (cfg / "config.toml").write_text('[keys]\n"lane.keep" = "K"\n')
    assert "OK (remapped: lane.keep = K)" in cli("config", "check").output


def test_unkeep_undoes_keep_and_refuses_a_lane_that_is_not_kept(repo):
    wl(repo, "wt", "create", "later")
    assert wl(repo, "wt", "unkeep", "later", check=False).returncode == 1
    wl(repo, "wt", "keep", "later")
    assert "active again" in wl(repo, "wt", "unkeep", "later").stdout
    assert json.loads(wl(repo, "wt", "status", "later", "--json").stdout)["status"] == "active"


def test_task_list_into_a_reader_that_leaves_early_is_quiet(cli, repo):
    """`task list | head`: the reader closing the pipe is not an error to report."""
    cli("task", "list")
    write_tasks(repo, [{"id": i} for i in range(1, 6001)])   # more than a pipe holds
    proc = subprocess.Popen([sys.executable, "-m", "tui", "task", "list"], cwd=repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline() == b"[ ] #1: task 1\n"
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and err == ""
