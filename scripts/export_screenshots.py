"""Render SVG screenshots of the real app on the demo repository into screenshots/.

    python scripts/export_screenshots.py [--out screenshots] [--size 120x36]

The demo is made with fixed times, so the pictures only change when the app does. The
chat shot runs the real agent against the local fake Messages API server of the tests
(no network, no key): it asks to run a command in a lane, the approval is given with
the "y" key, and the answer streams in. The other shots use the same server, so the
chat pane shows a ready agent rather than "no API key".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.agent.config import DEFAULT_MODEL
from tui.app import create_app  # noqa: E402
from tui.demo import make_demo_repo  # noqa: E402
from tui.screens.dialogs import ApprovalScreen  # noqa: E402
from tui.screens.views import DiffScreen  # noqa: E402
from tests.tui_helpers import FIXED_EPOCH, fixed_options, settle, wait_for  # noqa: E402


async def _ready(pilot) -> None:
    app = pilot.app
    await settle(pilot, app)
    await wait_for(pilot, lambda: len(app.lane_table.statuses) == 2, what="lane status")
    await wait_for(pilot, lambda: not app.chat.input.disabled, what="agent")
    await settle(pilot, app)
    app.task_table.focus()


async def _select_lane(pilot, name: str) -> None:
    app = pilot.app
    app.lane_table.focus()
    app.lane_table.select_key(name)
    await pilot.pause()


async def main_screen(pilot, app) -> None:
    app.task_table.select_key("5")
    await pilot.pause()


async def remove_confirm(pilot, app) -> None:
    await _select_lane(pilot, "auth-refactor")
    await pilot.press("x")
    await pilot.pause()


async def diff_view(pilot, app) -> None:
    await _select_lane(pilot, "auth-refactor")
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.done,
                   what="diff")
    await pilot.pause()


async def merge_confirm(pilot, app) -> None:
    from tui.screens.merge import MergeLaneScreen

    await _select_lane(pilot, "ui-login")
    await pilot.press("m")
    await wait_for(pilot, lambda: isinstance(app.screen, MergeLaneScreen), what="merge dialog")
    await pilot.pause()


async def chat_with_tool_call(pilot, app) -> None:
    await pilot.press("slash")
    app.chat.input.value = "What is left to do in the auth lane?"
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval")
    await pilot.press("y")
    await wait_for(pilot, lambda: not app.agent_host.running, what="turn end")
    await settle(pilot, app)


SHOTS = (("main", main_screen), ("remove-confirm", remove_confirm), ("diff", diff_view),
         ("merge-confirm", merge_confirm), ("chat-tool-call", chat_with_tool_call))


def script_agent(api) -> None:
    api.add_tool_use("worktree_run", {"name": "auth-refactor", "command": "git status --short"},
                     text_before="Let me look at the **auth-refactor** lane first.")
    api.add_text("Two things are left in `auth-refactor`:\n\n"
                 "1. `auth.py` is changed but not committed\n"
                 "2. `notes.txt` asks to migrate the stored passwords\n\n"
                 "Task #4 (rate limiting) waits on this one; I can commit and "
                 "keep the lane, or remove it and complete task #1.")


async def shoot(out: Path, size: tuple[int, int]) -> list[Path]:
    import core.events
    from tests.fakeapi import FakeAPI

    # Events written during the shots (the agent's command) get a fixed time too.
    core.events.time = SimpleNamespace(time=lambda: FIXED_EPOCH - 600)
    os.environ["ANTHROPIC_API_KEY"] = "screenshot-key"
    work = Path(tempfile.mkdtemp(prefix="worklanes-shots-"))
    made: list[Path] = []
    with FakeAPI() as api:
        script_agent(api)
        for name, steps in SHOTS:
            root = make_demo_repo(work / name / "acme", epoch=FIXED_EPOCH)
            app = create_app(root, **fixed_options(agent=True, base_url=api.url,
                                                   model=DEFAULT_MODEL))
            async with app.run_test(size=size) as pilot:
                await _ready(pilot)
                await steps(pilot, app)
                path = out / f"{name}.svg"
                path.write_text(app.export_screenshot(title="worklanes"), encoding="utf-8")
                made.append(path)
        if api.errors:
            raise SystemExit(f"fake API saw bad requests: {api.errors}")
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--size", default="120x36")
    args = parser.parse_args()
    w, h = (int(x) for x in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(args.out, (w, h))):
        print(path)


if __name__ == "__main__":
    main()
