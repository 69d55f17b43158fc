"""core/ never imports textual; the board commands never load textual or anthropic."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_core_source_never_imports_textual():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            if any(m == "textual" or m.startswith(("textual.", "tui")) for m in mods):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_importing_all_of_core_loads_no_textual_and_no_anthropic():
    mods = [p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
            for p in (ROOT / "core").rglob("*.py")]
    code = ("import sys\n" + "".join(f"import {m.removesuffix('.__init__')}\n" for m in mods)
            + "print('textual' in sys.modules, 'anthropic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


HEAVY = ("textual", "anthropic", "git", "core.lanes", "core.agent.loop", "core.agent.tools",
         "tui.chat_cli", "tui.dispatch_cli",
         # No git process either: the repository is found from its .git entries
         # (core.repo), so neither core.git nor the subprocess machinery is loaded.
         "core.git", "subprocess", "selectors", "signal", "tomllib", "filelock", "watchfiles",
         "rich", "core.forecast",
         # The lane commands are built only when a `wt` command runs (or is listed).
         "tui.cli_lanes",
         # Its classes are plain ones: defining a dataclass costs more than a small
         # board's whole listing.
         "dataclasses")


def test_task_list_command_loads_nothing_it_does_not_use(repo):
    """The board commands stay fast: no UI, no SDK, no GitPython, no lane or agent code
    (the agent's commands are loaded lazily, when run), no git process."""
    code = ("import sys\nsys.argv = ['worklanes', 'task', 'list']\nfrom tui.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('MODS', *[m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True,
                         env={**__import__('os').environ, "PYTHONPATH": str(ROOT)})
    assert "No tasks." in out.stdout, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "MODS"


def run_cli_listing_modules(args: list[str], cwd, prefixes: tuple[str, ...] = ("",),
                            entry: str = "tui.cli"):
    """Run ``worklanes ARGS`` in a fresh interpreter (from ``entry``'s ``main``): its
    stdout, and the modules with one of these prefixes it loaded, after a last line
    ``MODS``."""
    code = (f"import sys\nsys.argv = ['worklanes', *{args!r}]\nfrom {entry} import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('MODS', *sorted(m for m in sys.modules if m.startswith({prefixes!r})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                         env={**__import__('os').environ, "PYTHONPATH": str(ROOT)})
    text, _, mods = out.stdout.rpartition("MODS")
    return text, out.stderr, mods.split()


def _feature_lane(ws) -> None:
    lane = ws.lanes.create("feat").lane
    (Path(lane["path"]) / "new.txt").write_text("hello\n")
    (Path(lane["path"]) / "README.md").write_text("changed\n")


# What `wt diff` on a healthy workspace may load besides what Python itself does before
# running a line: json and the signal numbers, its own lean readers, nothing else (no
# click, no subprocess, pathlib or typing), so git starts ~15 ms after Python does.
QUICK_DIFF_STDLIB = "import json, signal, threading"
QUICK_DIFF_OURS = {"__future__", "tui", "tui.entry", "core", "core.errors", "core.lazy", "core.records",
                   "core.lanes", "core.secrets", "core.gitenv", "core.layout", "core.plain",
                   "core.paths", "core.lanes.diff_cmd"}


def test_wt_diff_on_a_healthy_workspace_starts_git_before_the_command_line_loads(ws):
    _feature_lane(ws)
    text, err, mods = run_cli_listing_modules(["wt", "diff", "feat"], ws.root, entry="tui.entry")
    assert "+changed" in text and "?? new.txt" in text, err
    floor = subprocess.run([sys.executable, "-c", f"import sys\n{QUICK_DIFF_STDLIB}\n"
                            "print(*sys.modules)"], capture_output=True, text=True).stdout.split()
    assert sorted(set(mods) - set(floor) - {"__main__"}) == sorted(QUICK_DIFF_OURS)


def test_wt_diff_by_the_full_command_line_loads_the_index_and_the_diff_only(ws):
    """When the workspace is not plainly healthy (or with -C), `wt diff` opens it first:
    of the lane code it loads only the index and the diff, and no GitPython, UI or agent."""
    _feature_lane(ws)
    text, err, mods = run_cli_listing_modules(["wt", "diff", "feat"], ws.root,
                                              ("core.", "git", "textual", "anthropic", "tui."))
    assert "+changed" in text and "?? new.txt" in text, err
    assert [m for m in mods if m.startswith("core.lanes.")] == ["core.lanes.diff_cmd",
                                                                "core.lanes.index"]
    assert not [m for m in mods if m.startswith(("git", "textual", "anthropic", "core.agent",
                                                 "core.forecast", "tui.app", "tui.chat"))]


# What the app's first frame does without: the agent beyond its approval queue and lane
# states (the event types, the settings, the loop, the SDK), the lane code beyond the
# index (the lifecycle, the status reads, git itself, the forecast), the watchers (they
# start after it) and the bell.
NOT_BEFORE_PAINT = ("core.agent.lane_agent", "core.agent.loop", "core.agent.tools", "anthropic",
                    "core.agent.events", "core.agent.config",
                    "core.lanes.lifecycle", "core.lanes.status", "core.lanes.archive",
                    "core.lanes.reconcile", "core.forecast", "core.git",
                    "tui.watch", "core.lane_watch", "watchfiles", "tui.notify")


def test_the_apps_first_frame_loads_no_agent_loop(ws):
    """The app's first frame waits for nothing it does not draw: the lane agents' queue is
    made before it (core.agent.approvals), their runner, the agent loop, its tools and the
    SDK only after it; so are the lane code past the index and the watchers. On a board
    with a task, a lane and events, so that every pane draws something."""
    task = ws.tasks.create("Draw me")
    ws.lanes.create("drawn", task_id=task["id"])
    repo = ws.root
    code = ("import asyncio, sys\nfrom pathlib import Path\nfrom tui.app import create_app\n"
            "seen = []\n"
            "def painted():\n"
            f"    seen.extend(m for m in {NOT_BEFORE_PAINT!r} if m in sys.modules)\n"
            "async def main():\n"
            "    app = create_app(Path('.'), user_keymap=False, on_first_paint=painted)\n"
            "    async with app.run_test() as pilot:\n"
            "        await pilot.pause()\n"
            "    print('PAINTED', app.first_full_paint is not None, 'MODS', *seen)\n"
            "asyncio.run(main())\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True,
                         env={**__import__('os').environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip().splitlines()[-1] == "PAINTED True MODS", (out.stdout, out.stderr)
