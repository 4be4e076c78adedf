"""Session tokens: random, expiring, idle-limited, revocable.

Kept in memory only: an engine restart signs everyone out, and no token ever reaches disk.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from auth.principal import Principal


@dataclass(slots=True)
class Session:
    principal: Principal
    created: float
    last_used: float
    source: str


def _key(token: str) -> str:
    # Only a digest is kept, so a memory dump of the table does not hand out live tokens.
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(
        self, ttl_seconds: float, idle_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._ttl, self._idle, self._clock = ttl_seconds, idle_seconds, clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, principal: Principal, source: str = "") -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._sessions[_key(token)] = Session(principal, now, now, source)
        return token

    def lookup(self, token: str) -> Principal | None:
        now = self._clock()
        with self._lock:
            session = self._sessions.get(_key(token))
            if session is None:
                return None
            if now - session.created > self._ttl or now - session.last_used > self._idle:
                del self._sessions[_key(token)]
                return None
            session.last_used = now
            return session.principal

    def revoke(self, token: str) -> bool:
        with self._lock:
            return self._sessions.pop(_key(token), None) is not None

    def revoke_user(self, name: str) -> int:
        with self._lock:
            doomed = [k for k, s in self._sessions.items() if s.principal.name == name]
            for k in doomed:
                del self._sessions[k]
            return len(doomed)
