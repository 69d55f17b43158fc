"""``worklanes demo``: a throwaway repository with a small story in it, made with core
only, so a newcomer sees every pane alive at once.

    tasks   1 Implement auth refactor   in_progress  lane auth-refactor (dirty, 1 ahead)
            2 Build the login page      in_progress  lane ui-login (kept, 1 ahead)
            3 Write the API docs        completed    lane docs (removed, task completed)
            4 Add rate limiting         pending      blocked by 1
            5 Session timeout setting   pending      ready
            6 Release 0.2               pending      blocked by 2 and 4

With ``epoch`` every timestamp (commits, events) is fixed, so snapshots and screenshots
are the same on every run.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from core import git
from core.fsutil import atomic_write_text
from core.workspace import Workspace

FILES = {
    "README.md": "# acme\n\nA tiny web service used by the worklanes demo.\n",
    "app.py": "from auth import login\n\n\ndef main():\n    print(login('demo', 'secret'))\n",
    "auth.py": "def login(user, password):\n    return user == 'demo' and password == 'secret'\n",
    "templates/login.html": "<form>\n  <input name=user>\n  <input name=password type=password>\n</form>\n",
    "config.py": "SESSION_TIMEOUT = 3600\n",
}

SUBJECTS = [
    ("Implement auth refactor", "Move password checks behind a hasher; keep login() stable.", "agent"),
    ("Build the login page", "A real form with error states.", "alice"),
    ("Write the API docs", "Document login() and the config.", "bob"),
    ("Add rate limiting", "Limit login attempts per user.", ""),
    ("Session timeout setting", "Make SESSION_TIMEOUT configurable.", ""),
    ("Release 0.2", "Tag and publish.", "alice"),
]


def _git_env(ts: float) -> dict[str, str]:
    stamp = f"@{int(ts)} +0000"
    return {"GIT_AUTHOR_NAME": "Demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
            "GIT_COMMITTER_NAME": "Demo", "GIT_COMMITTER_EMAIL": "demo@example.com",
            "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_CONFIG_NOSYSTEM": "1"}


def _commit(path: Path, message: str, ts: float) -> None:
    git.check(["add", "-A"], path, env=_git_env(ts))
    git.check(["commit", "-q", "--no-verify", "--no-gpg-sign", "-m", message], path,
              env=_git_env(ts), what="demo commit")


def _write(base: Path, rel: str, text: str) -> None:
    target = base / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def make_demo_repo(path: Path | str | None = None, epoch: float | None = None) -> Path:
    """Create the demo repository in ``path`` (must be absent or empty), or in a new
    temporary folder, and return its root."""
    if path is None:
        root = Path(tempfile.mkdtemp(prefix="worklanes-demo-")) / "acme"
    else:
        root = Path(path).expanduser().resolve()
        if root.exists() and any(root.iterdir()):
            from core.errors import InvalidInputError
            raise InvalidInputError(f"{root} is not empty; pick a new folder for the demo")
    root.mkdir(parents=True, exist_ok=True)
    now = time.time() if epoch is None else float(epoch)
    t0 = now - 3 * 86400  # the history starts three days ago

    git.check(["init", "-q", "-b", "main"], root, what="git init")
    for rel, text in FILES.items():
        _write(root, rel, text)
    _commit(root, "Initial service skeleton", t0)
    _write(root, "auth.py", FILES["auth.py"] + "\n\ndef logout(user):\n    return True\n")
    _commit(root, "Add logout", t0 + 3600)

    ws = Workspace.open(root)
    tasks = [ws.tasks.create(s, description=d, owner=o) for s, d, o in SUBJECTS]
    ids = [t["id"] for t in tasks]
    ws.tasks.block(ids[3], ids[0])
    ws.tasks.block(ids[5], ids[1])
    ws.tasks.block(ids[5], ids[3])

    auth = Path(ws.lanes.create("auth-refactor", task_id=ids[0], base_ref="main").lane["path"])
    _write(auth, "hashing.py", "import hashlib\n\n\ndef hash_password(pw):\n"
                               "    return hashlib.sha256(pw.encode()).hexdigest()\n")
    _commit(auth, "Add password hashing helper", t0 + 2 * 86400)
    _write(auth, "auth.py", "from hashing import hash_password\n\n\n"
                            "def login(user, password):\n"
                            "    return user == 'demo' and hash_password(password) == HASH\n")
    _write(auth, "notes.txt", "TODO: migrate stored passwords\n")

    ui = Path(ws.lanes.create("ui-login", task_id=ids[1], base_ref="main").lane["path"])
    _write(ui, "templates/login.html",
           "<form class=login>\n  <input name=user required>\n"
           "  <input name=password type=password required>\n  <button>Sign in</button>\n</form>\n")
    _commit(ui, "Login form with validation", t0 + 2 * 86400 + 7200)
    ws.lanes.keep("ui-login")

    docs = Path(ws.lanes.create("docs", task_id=ids[2], base_ref="main").lane["path"])
    _write(docs, "docs/api.md", "# API\n\n`login(user, password)` returns True on success.\n")
    _commit(docs, "API docs", t0 + 2 * 86400 + 9000)
    ws.lanes.remove("docs", complete_task=True)

    ws.lanes.run("auth-refactor", "git status --short")
    ws.lanes.run("ui-login", "test -f templates/login.html")
    if epoch is not None:
        _fix_event_times(ws, now - 3600)
    return root


def _fix_event_times(ws: Workspace, start: float) -> None:
    """Give the events fixed, evenly spaced times (a demo made in a test or for a
    screenshot must render the same every time)."""
    lines = ws.events.path.read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        event = json.loads(line)
        event["ts"] = start + 37 * i
        out.append(json.dumps(event, ensure_ascii=False))
    atomic_write_text(ws.events.path, "\n".join(out) + "\n")
