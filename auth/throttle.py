"""Failed sign-in throttling, per user name, per account and per source address.

`max_failures` failures within `window_seconds` lock that user name (or that account, or that
source) for `lockout_seconds`; while locked every attempt is refused without checking the
password, and the message says when to retry. Sources without an address (the Unix socket, which
every SSH user shares) are throttled per user only.

A name as typed and the account it resolves to are counted apart: `alice` and
`alice@corp.example.com` are two names but one account (one DN), so guesses under both forms add
up, and a lock on the account holds whichever form is typed. A name that resolves to no account
(an unknown user) is counted under the name (and the source) only.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from auth.grants import normalize_dn

MAX_KEYS = 10000  # bound the memory an attacker can make us spend on names


@dataclass(frozen=True, slots=True)
class Locked:
    what: str  # "user alice" | "source 10.0.0.7" (an account lock names the user as typed)
    until: float
    failures: int
    account: str | None = None  # set when the account (not the name) is locked: for the audit

    def message(self, now: float) -> str:
        when = datetime.fromtimestamp(self.until, UTC).strftime("%H:%M:%S UTC")
        minutes = max(1, round((self.until - now) / 60))
        return (
            f"too many failed sign-ins for {self.what}: locked until {when} "
            f"(try again in about {minutes} min)"
        )


def source_address(source: str) -> str | None:
    """'10.0.0.7:51234' -> '10.0.0.7', '[::1]:5' -> '::1'; None for the Unix socket."""
    if not source or source == "unix-socket":
        return None
    host, sep, port = source.rpartition(":")
    if sep and port.isdigit():
        return host.strip("[]") or None
    return source


class _Counter:
    def __init__(self, limit: int, window: float, lockout: float) -> None:
        self.limit, self.window, self.lockout = limit, window, lockout
        self.failures: dict[str, deque[float]] = {}
        self.locked_until: dict[str, float] = {}

    def locked(self, key: str, now: float) -> float | None:
        until = self.locked_until.get(key)
        if until is None:
            return None
        if now >= until:
            del self.locked_until[key]
            self.failures.pop(key, None)
            return None
        return until

    def fail(self, key: str, now: float) -> int:
        recent = self.failures.setdefault(key, deque())
        recent.append(now)
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            self.locked_until[key] = now + self.lockout
        if len(self.failures) > MAX_KEYS:
            self._prune(now)
        return len(recent)

    def _prune(self, now: float) -> None:
        stale = [k for k, q in self.failures.items() if not q or q[-1] <= now - self.window]
        for k in stale:
            del self.failures[k]
        for k in [k for k, until in self.locked_until.items() if until <= now]:
            del self.locked_until[k]
        while len(self.failures) > MAX_KEYS:  # still too many: forget the oldest
            del self.failures[min(self.failures, key=lambda k: self.failures[k][-1])]

    def clear(self, key: str) -> None:
        self.failures.pop(key, None)
        self.locked_until.pop(key, None)


class Throttle:
    def __init__(
        self,
        max_failures: int = 5,
        window_seconds: float = 300,
        lockout_seconds: float = 900,
        max_failures_per_source: int = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._users = _Counter(max_failures, window_seconds, lockout_seconds)
        self._accounts = _Counter(max_failures, window_seconds, lockout_seconds)
        self._sources = _Counter(max_failures_per_source, window_seconds, lockout_seconds)
        self._clock = clock
        self._lock = threading.Lock()

    @staticmethod
    def _user_key(user: str) -> str:
        return user.strip().casefold()

    @staticmethod
    def account_key(account: str) -> str:
        """A DN (or an account name): case and spacing of a DN do not make another account."""
        return normalize_dn(account)

    def check(self, user: str, source: str, account: str | None = None) -> Locked | None:
        """The lock that refuses this attempt, if any (the name, the account, the source)."""
        now = self._clock()
        with self._lock:
            until = self._users.locked(self._user_key(user), now)
            if until is not None:
                return Locked(f"user {user}", until, self._users.limit)
            if account is not None:
                until = self._accounts.locked(self.account_key(account), now)
                if until is not None:
                    return Locked(f"user {user}", until, self._accounts.limit, account)
            addr = source_address(source)
            if addr is not None:
                until = self._sources.locked(addr, now)
                if until is not None:
                    return Locked(f"source {addr}", until, self._sources.limit)
        return None

    def failed(self, user: str, source: str, account: str | None = None) -> Locked | None:
        """Counts a failure; returns the lock it caused, if it caused one."""
        now = self._clock()
        with self._lock:
            self._users.fail(self._user_key(user), now)
            if account is not None:
                self._accounts.fail(self.account_key(account), now)
            addr = source_address(source)
            if addr is not None:
                self._sources.fail(addr, now)
        return self.check(user, source, account)

    def succeeded(self, user: str, account: str | None = None) -> None:
        # The name and the account: a source's count is not reset by signing in to one's own
        # account, nor another name form's (those guesses were not this sign-in's).
        with self._lock:
            self._users.clear(self._user_key(user))
            if account is not None:
                self._accounts.clear(self.account_key(account))

    def now(self) -> float:
        return self._clock()
