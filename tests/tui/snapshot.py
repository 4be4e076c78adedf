"""Screen snapshots: the frame as text with its styles (ANSI), compared with a stored file.

Regenerate after an intended change with OVTUI_UPDATE_SNAPSHOTS=1 (review `git diff`: `cat` a
.ans file in a terminal shows the screen as it was). A missing file fails rather than being
written, so a snapshot is never created silently (e.g. in CI).

pytest-textual-snapshot would be the usual tool; its pin of syrupy 4.8 requires pytest < 9.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from pathlib import Path
from typing import Any

from rich.console import Console

DIR = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("OVTUI_UPDATE_SNAPSHOTS") == "1"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def frame(app: Any) -> str:
    """The current screen, as App.export_screenshot renders it, but as styled text: the same
    compositor output (modal screens over the dimmed ones beneath), without SVG markup."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=True
    )
    console.print(update)
    return console.export_text(styles=True)


def plain(text: str) -> str:
    return _ANSI.sub("", text)


def assert_snapshot(name: str, text: str) -> None:
    path = DIR / f"{name}.ans"
    if UPDATE:
        DIR.mkdir(exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        raise AssertionError(f"no snapshot {path.name}: run with OVTUI_UPDATE_SNAPSHOTS=1")
    stored = path.read_text()
    actual = path.with_suffix(".actual.ans")  # kept for a look while the screen differs
    if stored == text:
        actual.unlink(missing_ok=True)
        return
    actual.write_text(text)
    diff = "\n".join(
        difflib.unified_diff(
            plain(stored).splitlines(), plain(text).splitlines(), "stored", "now", lineterm=""
        )
    )
    what = diff or "same characters, different styles (colours, bold, ...)"
    raise AssertionError(f"screen {name} changed (now in {actual.name}):\n{what}")
