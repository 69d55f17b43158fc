"""`wt diff` and the app's diff view, streamed: real git, real processes.

Streaming is proven with a hold, not the clock: an external diff driver (a real git
feature, set up in the lane's repository) runs for the last file and waits on a hold
file; git has written the stat and every earlier patch by then, and is still running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import GitError
from tests.conftest import git, killed_create
from tests.tui_helpers import running, screen_text, wait_for

ROOT = Path(__file__).resolve().parents[1]

DRIVER = """#!/bin/sh
echo "$$" > "{pid}"
while [ -e "{hold}" ]; do sleep 0.02; done
echo "external diff of $1"
"""


def held_lane(ws, tmp_path: Path, name: str = "big", files: int = 300) -> dict:
    """A lane with ``files`` changed files and a last one (``zzz.held``) whose diff comes
    from a driver that holds until the test lets it go."""
    lane = Path(ws.lanes.create(name).lane["path"])
    for i in range(files):
        (lane / f"f{i:03d}.txt").write_text(f"line {i}\n" * 5)
    (lane / "zzz.held").write_text("held\n")
    git(lane, "add", "-A")
    git(lane, "commit", "-qm", "many files")
    (lane / "zzz.held").write_text("held, changed\n")
    (lane / "scratch.txt").write_text("untracked\n")
    hold, pid = tmp_path / "hold", tmp_path / "driver.pid"
    hold.touch()
    driver = tmp_path / "driver.sh"
    driver.write_text(DRIVER.format(pid=pid, hold=hold))
    driver.chmod(0o755)
    (ws.root / ".git" / "info" / "attributes").write_text("*.held diff=hold\n")
    git(ws.root, "config", "diff.hold.command", str(driver))
    return {"path": lane, "hold": hold, "pid": pid}


def gone(pid: int) -> bool:
    """The process no longer runs: reaped, or dead and waiting for its parent (an
    orphan's zombie is init's to reap)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except FileNotFoundError:
        return True


def wait_gone(*pids: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not all(gone(p) for p in pids):
        assert time.monotonic() < deadline, f"still running: {[p for p in pids if not gone(p)]}"
        time.sleep(0.01)


def wait_file(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_diff_arrives_before_git_ends_and_cancel_leaves_no_process(ws, tmp_path):
    held = held_lane(ws, tmp_path)
    with ws.lanes.diff_stream("big") as stream:
        chunks = stream.chunks(size=4096)
        first = next(chunks)
        wait_file(held["pid"])           # git is at the last file, held
        git_pid, driver_pid = stream.diff.pid, int(held["pid"].read_text())
        assert stream.diff.poll() is None
        assert first.startswith(" f000.txt")
        stream.cancel()
        assert list(chunks) == []        # the reader ends quietly
    assert not os.path.exists(f"/proc/{git_pid}")   # killed and reaped by the stream
    wait_gone(driver_pid, stream.listing.pid)
    held["hold"].unlink()


def test_diff_text_is_the_stat_the_patch_then_untracked(ws, tmp_path):
    held = held_lane(ws, tmp_path, files=3)
    held["hold"].unlink()
    text = ws.lanes.diff("big")
    assert text.startswith(" f000.txt")
    assert "+line 2" in text and "external diff of zzz.held" in text
    assert text.endswith("\n?? scratch.txt (untracked, not in the diff)\n")
    assert text.index("4 files changed") < text.index("diff --git a/f000.txt")


def test_a_diff_git_refuses_is_one_line_and_no_process_is_left(ws):
    ws.lanes.create("gone-base")
    ws.lanes.update("gone-base", base="no-such-branch")
    with pytest.raises(GitError, match=r"^diff of lane 'gone-base' failed: ") as err:
        ws.lanes.diff("gone-base")
    assert "\n" not in str(err.value)


def cli(cwd: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui", *args], cwd=cwd, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, **kw)


# `wt diff NAME` runs before the command line loads (tui.entry) when the workspace is
# plainly healthy; with -C (or anything to recover or report) the full command runs it.
# Both must show the same thing, the same way.
@pytest.fixture(params=["quick", "full"])
def wt_diff(request, ws):
    return ["wt", "diff"] if request.param == "quick" else ["-C", str(ws.root), "wt", "diff"]


def test_cli_diff_is_the_same_text_written_by_git_itself(ws, tmp_path, wt_diff):
    held = held_lane(ws, tmp_path, files=3)
    held["hold"].unlink()
    res = cli(ws.root, *wt_diff, "big")
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode() == ws.lanes.diff("big")


def test_both_paths_give_the_same_bytes_from_the_root_and_from_inside_a_lane(ws):
    lane = Path(ws.lanes.create("odd").lane["path"])
    (lane / "README.md").write_text("changed\n")
    git(lane, "commit", "-qam", "a commit")
    (lane / "README.md").write_text("changed again\n")
    for odd in ("with space.txt", "tab\there.txt", "ünïcødé.txt", "new\nline.txt"):
        (lane / odd).write_text("untracked\n")
    quick = cli(ws.root, "wt", "diff", "odd")
    assert quick.returncode == 0, quick.stderr
    assert b"+changed again" in quick.stdout and b"?? \xc3\xbcn" in quick.stdout
    assert b"?? tab\there.txt" in quick.stdout and b"?? new\nline.txt" in quick.stdout
    for where, args in ((ws.root, ["-C", str(ws.root)]), (lane, []), (lane / "", ["-C", "."])):
        res = cli(where, *args, "wt", "diff", "odd")
        assert (res.returncode, res.stdout, res.stderr) == (0, quick.stdout, b"")


def test_cli_diff_streams_to_stdout_while_git_runs(ws, tmp_path, wt_diff):
    held = held_lane(ws, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "tui", *wt_diff, "big"], cwd=ws.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        head = os.read(proc.stdout.fileno(), 64 * 1024)   # while the driver holds git
        wait_file(held["pid"])
    finally:
        held["hold"].unlink()
    assert head.startswith(b" f000.txt")
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (head + rest).endswith(b"external diff of zzz.held\n\n"
                                  b"?? scratch.txt (untracked, not in the diff)\n")


def test_cli_diff_into_a_closed_pipe_ends_quietly(ws, tmp_path, wt_diff):
    held = held_lane(ws, tmp_path, files=2000)
    held["hold"].unlink()
    res = subprocess.run(f"{sys.executable} -m tui {' '.join(wt_diff)} big | head -1; "
                         "echo \"status ${PIPESTATUS[0]}\"", shell=True, executable="bash",
                         cwd=ws.root, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.stdout.startswith(" f000.txt") and res.stderr == ""
    assert res.stdout.endswith("status 141\n")   # as git itself, and every command here


def test_cli_diff_of_a_bad_base_is_one_line(ws, wt_diff):
    ws.lanes.create("gone-base")
    ws.lanes.update("gone-base", base="no-such-branch")
    res = cli(ws.root, *wt_diff, "gone-base", text=True)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.startswith("worklanes: diff of lane 'gone-base' failed: ")
    assert res.stderr.count("\n") == 1


def test_ctrl_c_during_a_cli_diff_stops_git_and_says_so(ws, tmp_path, wt_diff):
    """Ctrl-C reaches the terminal's whole process group: git and its diff driver stop,
    the command says it was aborted, in one line, and leaves nothing running."""
    held = held_lane(ws, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "tui", *wt_diff, "big"], cwd=ws.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        os.read(proc.stdout.fileno(), 64 * 1024)
        wait_file(held["pid"])
        driver = int(held["pid"].read_text())
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        held["hold"].unlink()
    assert (proc.returncode, err) == (1, b"\nworklanes: aborted\n")
    wait_gone(driver)


@pytest.mark.parametrize("index, says", [
    (b'{"worktrees": [', "index.json cannot be parsed"),
    (b'{"worktrees": {"big": 1}}', "index.json cannot be parsed"),
    (b'{"worktrees": [{"name": "big"}]}', "index.json cannot be parsed"),
])
def test_a_corrupt_index_is_reported_by_wt_diff_and_left_untouched(ws, index, says):
    ws.lanes.create("big")
    (ws.root / ".worktrees" / "index.json").write_bytes(index)
    res = cli(ws.root, "wt", "diff", "big", text=True)
    assert res.returncode == 1 and res.stdout == "" and res.stderr.count("\n") == 1
    assert says in res.stderr and "left untouched" in res.stderr
    assert (ws.root / ".worktrees" / "index.json").read_bytes() == index


def test_wt_diff_of_a_lane_it_cannot_show_names_why(ws):
    ws.lanes.create("gone")
    ws.lanes.remove("gone")
    ws.lanes.create("moved")
    missing = Path(ws.lanes.get("moved")["path"])
    os.rename(missing, ws.root.parent / "elsewhere")
    for name, says in (("nope", "lane 'nope' is not in the index"),
                       ("gone", "`worklanes wt restore gone` brings it back"),
                       ("moved", "is missing; run `worklanes wt reconcile --fix`"),
                       ("a b", "lane 'a b' is not in the index")):
        res = cli(ws.root, "wt", "diff", name, text=True)
        assert res.returncode == 1 and res.stdout == "", name
        assert res.stderr.startswith("worklanes: ") and says in res.stderr, res.stderr


def test_wt_diff_recovers_what_a_killed_command_left_before_it_reads_the_lane(ws):
    """A killed create left its intent record: the full command opens the workspace,
    which rolls the create back, and then says the lane is not there, rather than
    showing a diff of half a checkout."""
    path = killed_create(ws, "h")
    res = cli(ws.root, "wt", "diff", "h", text=True)
    assert (res.returncode, res.stdout) == (1, "")
    assert "lane 'h' is not in the index" in res.stderr
    assert not path.exists() and ws.lanes.list() == []


async def test_view_shows_the_first_screen_while_git_runs_and_closing_stops_it(ws, tmp_path):
    held = held_lane(ws, tmp_path)
    async with running(ws.root) as (pilot, app):
        from tui.screens.views import DiffScreen

        app.lane_table.focus()
        await wait_for(pilot, lambda: app.lane_table.select_key("big"), what="lane")
        await pilot.press("d")
        view = await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen)
                              and app.screen.shown and app.screen, what="first screen")
        await wait_for(pilot, held["pid"].exists, what="git held at the last file")
        git_pid, driver_pid = view.stream.diff.pid, int(held["pid"].read_text())
        await pilot.pause()
        assert not view.done and view.stream.diff.poll() is None
        assert "f000.txt" in screen_text(app) and "reading…" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, DiffScreen)
        await wait_for(pilot, lambda: gone(git_pid) and gone(driver_pid), what="git stopped")
    held["hold"].unlink()


async def test_view_of_a_whole_small_diff_and_of_a_failing_one(ws, tmp_path):
    held = held_lane(ws, tmp_path, files=2)
    held["hold"].unlink()
    ws.lanes.create("gone-base")
    ws.lanes.update("gone-base", base="no-such-branch")
    async with running(ws.root) as (pilot, app):
        from tui.screens.views import DiffScreen

        app.lane_table.focus()
        await wait_for(pilot, lambda: app.lane_table.select_key("big"), what="lane")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.done,
                       what="diff")
        await pilot.pause()
        text = screen_text(app)
        assert "external diff of zzz.held" in text and "?? scratch.txt" in text
        assert "reading…" not in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.lane_table.select_key("gone-base"), what="lane")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.done,
                       what="diff")
        await pilot.pause()
        assert "diff of lane 'gone-base' failed" in screen_text(app)
        assert app.screen.query_one("#diff").has_class("-failed")
