"""Running a screen's load in a worker when the screen may go away before the answer comes."""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import suppress

from textual.css.query import NoMatches


async def while_shown(load: Awaitable[None]) -> None:
    """A screen popped (or an app quitting) while its request was out has no widgets left to
    update when the answer lands: that is not an error, so the answer is simply dropped."""
    with suppress(NoMatches):
        await load
