"""Light and dark: Textual's own themes, which every widget's CSS variables follow."""

from __future__ import annotations

THEMES = {"dark": "textual-dark", "light": "textual-light"}


def other(current: str) -> str:
    """The name ('light'/'dark') to switch to from the Textual theme now in use."""
    return "dark" if current == THEMES["light"] else "light"
