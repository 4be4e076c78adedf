"""Why a sign-in failed, in the operator's words, with the engine's own message kept.

The engine answers 401 with one message for each case (ovtui/engine/signin.py,
auth/throttle.py); status 0 is the client's "cannot reach the engine".
"""

from __future__ import annotations

from dataclasses import dataclass

from ovtui.client import ApiError


@dataclass(frozen=True, slots=True)
class SignInProblem:
    kind: str  # unreachable | locked | directory | refused | no-role | missing | other
    title: str
    message: str  # the engine's (or the client's) message, verbatim
    hint: str = ""


_KINDS = (  # first match wins: a refusal that caused a lock-out says both; the lock matters
    ("too many failed sign-ins", "locked", "Locked out", "wait, or ask an administrator"),
    ("directory cannot be reached", "directory", "Directory unavailable", ""),
    ("no role is granted", "no-role", "No access granted", ""),
    ("unknown user or wrong password", "refused", "Wrong user name or password", ""),
    ("are both required", "missing", "User name and password needed", ""),
)


def explain(exc: ApiError) -> SignInProblem:
    if exc.status == 0:
        return SignInProblem(
            "unreachable", "Engine unreachable", exc.message, "check that the engine runs"
        )
    text = exc.message.lower()
    for needle, kind, title, hint in _KINDS:
        if needle in text:
            return SignInProblem(kind, title, exc.message, hint)
    return SignInProblem("other", f"Sign-in failed ({exc.status})", exc.message)
