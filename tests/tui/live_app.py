"""The dashboard on an in-process engine (tests/conftest.py's LiveEngine, standard_spec()):
quick to start, and each test gets its own fleet to change."""

from __future__ import annotations

from ovtui.tui.app import OvtuiApp
from tests.conftest import LiveEngine

from .conftest import FAST_REFRESH


def live_app(live: LiveEngine, user: str | None = "admin") -> OvtuiApp:
    """Signed in as `user` (a token, as `ovtui login` would leave), or at the sign-in screen."""
    token = live.login(user) if user else None
    return OvtuiApp(live.socket, token, refresh_seconds=FAST_REFRESH)
