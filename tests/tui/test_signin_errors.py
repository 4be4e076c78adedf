"""Sign-in refusals classified from the engine's own messages (imported, not copied)."""

from __future__ import annotations

import pytest

from auth.throttle import Locked
from ovtui.client import ApiError
from ovtui.engine.signin import REFUSED
from ovtui.tui.signin_errors import explain

LOCKED = Locked("user alice", until=1_000_000.0, failures=5).message(now=999_000.0)


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (401, REFUSED, "refused"),
        (401, f"{REFUSED}; {LOCKED}", "locked"),  # the failure that caused the lock-out
        (401, LOCKED, "locked"),
        (
            401,
            "the directory cannot be reached, so sign-in is not possible now (the engine log "
            "says why); a local break-glass account still works",
            "directory",
        ),
        (401, "alice is known, but no role is granted to you or your groups: ask", "no-role"),
        (401, "user name and password are both required", "missing"),
        (
            0,
            "cannot reach the engine at /run/x.sock: ConnectError; is `ovtui engine` running",
            "unreachable",
        ),
        (500, "something else", "other"),
    ],
)
def test_each_refusal_has_its_kind_and_keeps_the_engines_words(
    status: int, message: str, kind: str
) -> None:
    problem = explain(ApiError(status, message))
    assert problem.kind == kind
    assert problem.message == message
