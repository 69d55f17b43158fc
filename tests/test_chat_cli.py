"""`worklanes chat` headless: CliRunner for the cases, plus real processes (`python -m tui
chat`) with a pipe and with a pseudo-terminal for the approval prompt."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fakeapi import Fault, Reply
from tests.test_agent_support import KEY, api, calls  # noqa: F401
from tui.chat_cli import chat

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(api, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
    monkeypatch.setenv("MODEL_ID", "claude-test")
    return api


def invoke(args, input=None):
    return CliRunner().invoke(chat, args, input=input, catch_exceptions=False)


def test_no_key_is_one_line_and_non_zero(in_repo):
    res = invoke(["hello"])
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == [
        f"worklanes: no Anthropic API key: set ANTHROPIC_API_KEY in the environment or in "
        f"{in_repo / '.env'}"]


def test_key_from_dotenv_is_enough(in_repo, api, monkeypatch):
    (in_repo / ".env").write_text(f"ANTHROPIC_API_KEY={KEY}\nANTHROPIC_BASE_URL={api.url}\n")
    api.add_text("hi from dotenv")
    res = invoke(["hello"])
    assert res.exit_code == 0 and "hi from dotenv" in res.stdout


def test_outside_a_repository(tmp_path, monkeypatch, env):
    monkeypatch.chdir(tmp_path)
    res = invoke(["hello"])
    assert res.exit_code == 1 and res.output.startswith("worklanes: ") and "git" in res.output


def test_prompt_streams_text_tool_lines_and_usage(in_repo, env):
    api = env
    api.add(calls(("task_create", {"subject": "Backend auth"}), ("task_list", {}),
                  text="Let me add it."))
    api.add_text("Added task 1.")
    res = invoke(["Add a task for backend auth", "--model", "claude-flag"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == [
        "Let me add it.",
        "> task_create: Backend auth",
        "  ok: #1 Backend auth [pending]",
        "> task_list: -",
        "  ok: [ ] #1: Backend auth",
        "Added task 1.",
    ]
    assert "[tokens: in " in res.stderr and "model claude-flag" in res.stderr
    assert api.last_request.body["model"] == "claude-flag"


def test_side_effects_are_denied_without_a_terminal_unless_yes(in_repo, env):
    api = env
    api.add(calls(("bash", {"command": "touch made.txt"})))
    api.add_text("It was denied.")
    res = invoke(["make a file"])
    assert res.exit_code == 0
    assert "> bash: touch made.txt\n  denied\n" in res.stdout
    assert "pass --yes" in res.stderr
    assert not (in_repo / "made.txt").exists()

    api.add(calls(("bash", {"command": "touch made.txt"})))
    api.add_text("Made it.")
    res = invoke(["make a file", "--yes"])
    assert "> bash: touch made.txt\n  ok: (no output)\n" in res.stdout
    assert (in_repo / "made.txt").exists()


def test_api_failure_exits_non_zero_with_one_line(in_repo, env):
    env.add(Fault.status(400, message="bad things"))
    res = invoke(["hi"])
    assert res.exit_code == 1
    assert "worklanes: API error 400 (invalid_request_error: bad things)" in res.stderr


@pytest.mark.parametrize("fault", [{"drop_after": 1}, {"cut_after": 1}])
def test_retrying_is_reported_on_stderr(in_repo, env, fault):
    env.add(Reply(["a b c"], **fault))
    env.add_text("a b c")
    res = invoke(["hi"])
    assert res.exit_code == 0 and "[retrying (2/3) in 0.5s:" in res.stderr
    # a pipe cannot take the broken words back: stderr says they were not the answer
    assert "[withdrawn: the 2 characters above broke off" in res.stderr
    assert res.stdout.endswith("a b c\n")


def test_cut_reply_is_erased_on_a_terminal(in_repo, env):
    # The printer writes to a real pseudo-terminal: the withdrawn words are erased (cursor
    # back to where the reply began, clear to the end of the screen), no notice needed.
    from core.agent import TextDelta, TextWithdrawn
    from tui.chat_cli import Printer
    main_fd, child_fd = pty.openpty()
    with os.fdopen(child_fd, "w") as tty:
        printer = Printer(out=tty, err=tty)
        for ev in (TextDelta("line one\n"), TextDelta("bro"), TextWithdrawn("line one\nbro"),
                   TextDelta("whole")):
            printer(ev)
        seen = _read_until(main_fd, b"whole")
    os.close(main_fd)
    assert seen == b"line one\r\nbro\r\x1b[A\x1b[Jwhole"


def test_resume_continues_the_last_session(in_repo, env):
    env.add_text("first answer")
    invoke(["first"])
    env.add_text("second answer")
    res = invoke(["second", "--resume"])
    assert res.exit_code == 0 and "resumed with 2 messages" in res.stderr
    assert len(env.last_request.body["messages"]) == 3
    env.add_text("fresh")
    invoke(["third"])
    assert len(env.last_request.body["messages"]) == 1


def test_repl_reads_messages_until_eof(in_repo, env):
    env.add_text("one")
    env.add_text("two")
    res = invoke([], input="hello\n\nagain\n")
    assert res.exit_code == 0
    assert res.stdout == "one\ntwo\n"
    assert len(env.last_request.body["messages"]) == 3


def test_lane_flag_binds_the_agent(in_repo, env):
    from core.workspace import Workspace
    Workspace.open(in_repo).lanes.create("feat")
    env.add(calls(("bash", {"command": "pwd"})))
    env.add_text("ok")
    res = invoke(["where am I", "--lane", "feat", "--yes"])
    assert res.exit_code == 0 and ".worktrees/feat" in res.stdout
    res = invoke(["hi", "--lane", "nope"])
    assert res.exit_code == 1 and "not in the index" in res.output


# -- real processes ---------------------------------------------------------------------------

def _proc_env(api) -> dict[str, str]:
    return {**os.environ, "ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": api.url,
            "MODEL_ID": "claude-test", "PYTHONPATH": str(ROOT)}


def test_python_m_tui_chat_subprocess(in_repo, api):
    api.add(calls(("worktree_create", {"name": "auth-refactor"})))
    api.add_text("Lane ready.")
    proc = subprocess.run([sys.executable, "-m", "tui", "chat", "make a lane", "--yes"], cwd=in_repo,
                          env=_proc_env(api), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        "> worktree_create: auth-refactor\n  ok: lane auth-refactor [active] on wt/auth-refactor\n")
    assert proc.stdout.endswith("Lane ready.\n")
    assert (in_repo / ".worktrees" / "auth-refactor").is_dir()
    assert KEY not in proc.stdout + proc.stderr


def _read_until(fd: int, needle: bytes, timeout: float = 30.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        assert left > 0, buf
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def _chat_on_a_pty(in_repo, api, command: str, answer: bytes) -> bytes:
    """`worklanes chat` on a pseudo-terminal asked to run ``command``: everything the
    terminal received up to the token line, having answered the prompt with ``answer``."""
    api.add(calls(("bash", {"command": command})))
    api.add_text("finished")
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tui", "chat", "make it"], cwd=in_repo,
                            env=_proc_env(api), stdin=child_fd, stdout=child_fd,
                            stderr=child_fd, close_fds=True)
    os.close(child_fd)
    try:
        seen = _read_until(main_fd, b"[n]o ")
        os.write(main_fd, answer + b"\n")
        seen += _read_until(main_fd, b"[tokens:")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main_fd)
    return seen


@pytest.mark.parametrize(("answer", "made"), [(b"y", True), (b"n", False)])
def test_approval_prompt_on_a_terminal(in_repo, api, answer, made):
    seen = _chat_on_a_pty(in_repo, api, "touch made.txt", answer)
    assert b"Allow bash: touch made.txt? [y]es once / [a]lways / [n]o " in seen
    assert (b"  ok: (no output)" if made else b"  denied") in seen
    assert (in_repo / "made.txt").exists() is made


def test_escape_sequences_cannot_disguise_the_command_on_the_prompt(in_repo, api):
    # On a raw terminal ESC[2K ESC[1G erases the line and ESC[32m paints what follows:
    # the user would see only "git status?". The terminal must get no ESC byte at all,
    # and the real command, escapes spelled out, on the line it answers.
    seen = _chat_on_a_pty(in_repo, api, "touch pwned.txt #\x1b[2K\x1b[1G\x1b[32mgit status"
                          "\r\u202e", b"n")
    assert b"\x1b" not in seen and b"\r\r" not in seen
    prompt = [ln for ln in seen.split(b"\r\n") if ln.startswith(b"Allow ")][0]
    assert prompt.startswith(b"Allow bash: touch pwned.txt #\\x1b[2K\\x1b[1G\\x1b[32mgit "
                             b"status\\r\\u202e? [y]es")
    assert not (in_repo / "pwned.txt").exists()
