"""Throttle: a window of failures, a lockout with a retry time, per user and per source."""

from __future__ import annotations

from auth.throttle import Throttle, source_address


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_failures_spread_beyond_the_window_never_lock() -> None:
    clock = Clock()
    t = Throttle(3, 60, 600, 100, clock=clock)
    for _ in range(10):
        assert t.failed("alice", "") is None
        clock.now += 31  # at most two failures in any 60 s
    assert t.check("alice", "") is None


def test_lock_message_says_when_to_retry_and_expires() -> None:
    clock = Clock()
    t = Throttle(3, 60, 600, 100, clock=clock)
    t.failed("Alice", "")
    t.failed("alice", "")
    locked = t.failed("ALICE ", "")  # one user name, however it is typed
    assert locked is not None and locked.what == "user ALICE "
    assert "locked until 22:23:20 UTC (try again in about 10 min)" in locked.message(clock.now)
    clock.now += 599
    assert t.check("alice", "") is not None
    clock.now += 2
    assert t.check("alice", "") is None
    assert t.failed("alice", "") is None  # the count started again


def test_success_clears_the_user_but_not_the_source() -> None:
    clock = Clock()
    t = Throttle(3, 60, 600, 3, clock=clock)
    t.failed("alice", "10.1.1.1:5")
    t.failed("alice", "10.1.1.1:6")
    t.succeeded("alice")
    assert t.failed("alice", "10.1.1.1:7") is not None  # the source's third failure
    assert t.check("bob", "10.1.1.1:8") is not None
    assert t.check("bob", "10.1.1.2:8") is None


def test_the_unix_socket_is_not_a_source_address() -> None:
    t = Throttle(100, 60, 600, 2)
    for user in ("a", "b", "c"):
        t.failed(user, "unix-socket")
    assert t.check("d", "unix-socket") is None
    assert source_address("unix-socket") is None
    assert source_address("[::1]:443") == "::1"
    assert source_address("10.0.0.1:5") == "10.0.0.1"


def test_failures_under_two_names_of_one_account_add_up() -> None:
    clock = Clock()
    t = Throttle(3, 60, 600, 100, clock=clock)
    dn = "CN=alice,OU=People,DC=corp,DC=example,DC=com"
    assert t.failed("alice", "", account=dn) is None
    assert t.failed("alice@corp.example.com", "", account=dn) is None
    locked = t.failed("alice@corp.example.com", "", account=dn.lower())  # one DN, any case
    assert locked is not None and locked.account == dn.lower()
    assert locked.what == "user alice@corp.example.com"  # the name as typed, never the DN
    # Neither name is locked as a name; the account is, whichever name leads to it.
    assert t.check("alice", "") is None
    assert t.check("alice", "", account=dn) is not None
    assert t.check("bob", "", account="CN=bob,OU=People,DC=corp,DC=example,DC=com") is None
    clock.now += 601
    assert t.check("alice", "", account=dn) is None


def test_an_unknown_name_is_counted_under_the_name_only() -> None:
    t = Throttle(2, 60, 600, 100, clock=Clock())
    t.failed("nobody", "")
    assert t.failed("nobody", "") is not None  # the name is locked ...
    assert t.check("alice", "", account="CN=alice,DC=corp") is None  # ... and nothing else


def test_success_clears_the_account_but_not_the_other_names_count() -> None:
    t = Throttle(3, 60, 600, 100, clock=Clock())
    dn = "CN=alice,DC=corp"
    t.failed("alice@corp", "", account=dn)
    t.failed("alice@corp", "", account=dn)
    t.succeeded("alice", account=dn)
    assert t.failed("alice", "", account=dn) is None  # the account's count started again
    assert t.failed("alice@corp", "", account=dn) is not None  # that name's third failure
