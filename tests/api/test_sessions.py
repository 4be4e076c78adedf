"""Signing in and out over the API: tokens, refusals that do not help a guesser, expiry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from auth.principal import Principal
from auth.sessions import SessionStore
from tests.conftest import API, PASSWORD, ROLE_USERS, LiveEngine, running_engine, standard_spec

REFUSED = "sign-in refused: unknown user or wrong password"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEngine]:
    """Shared by the tests that only sign in and out; clock and lockout tests start their own."""
    with running_engine(standard_spec()) as running:
        yield running


def _login(live: LiveEngine, username: str, password: str) -> httpx.Response:
    return live.client().post(f"{API}/sessions", json={"username": username, "password": password})


def _message(resp: httpx.Response) -> str:
    message: str = resp.json()["error"]["message"]
    return message


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _use_clock(live: LiveEngine, clock: FakeClock, ttl: float, idle: float) -> None:
    """Gives the engine a session store on a clock the test moves (no sessions exist yet)."""
    store = SessionStore(ttl, idle, clock=clock)
    live.engine.sessions = store
    live.engine.signin.sessions = store


def test_login_returns_a_token_with_roles_and_permissions(live: LiveEngine) -> None:
    before = live.engine.audit_log.last_seq
    resp = _login(live, "operator", PASSWORD)
    assert resp.status_code == 200
    body = resp.json()
    assert len(body["token"]) >= 32
    assert body["user"] == "operator" and body["roles"] == ["Operator"]
    assert body["permissions"] == ["events.read", "inventory.read", "vm.console", "vm.power"]
    (rec,) = live.engine.audit_log.read(since_seq=before)
    assert (rec["actor"], rec["action"], rec["result"], rec["source"]) == (
        "operator",
        "login",
        "ok",
        "unix-socket",
    )
    assert rec["params"]["roles"] == ["Operator"]


def test_the_token_identifies_the_caller(live: LiveEngine) -> None:
    token = _login(live, "auditor", PASSWORD).json()["token"]
    me = live.client(token).get(f"{API}/sessions/current")
    assert me.status_code == 200
    assert me.json() == {
        "user": "auditor",
        "roles": ["Auditor"],
        "permissions": ["audit.read", "events.read", "inventory.read"],
        "grants": [],
    }
    # each sign-in is its own session
    other = _login(live, "auditor", PASSWORD).json()["token"]
    assert other != token
    assert live.client(other).get(f"{API}/sessions/current").json()["user"] == "auditor"


def test_wrong_password_and_unknown_user_are_refused_alike(live: LiveEngine) -> None:
    before = live.engine.audit_log.last_seq
    wrong = _login(live, "operator", "not-the-password")
    unknown = _login(live, "mallory", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert _message(wrong) == _message(unknown) == REFUSED
    assert wrong.json() == unknown.json()  # nothing tells a guesser which one was wrong
    records = live.engine.audit_log.read(since_seq=before)
    assert [(r["actor"], r["action"], r["result"]) for r in records] == [
        ("operator", "login", "denied"),
        ("mallory", "login", "denied"),
    ]
    assert all("not-the-password" not in str(r) for r in records)


def test_empty_password_is_refused_before_any_check(live: LiveEngine) -> None:
    known = _login(live, "operator", "")
    unknown = _login(live, "mallory", "")
    no_user = _login(live, "", PASSWORD)
    for resp in (known, unknown, no_user):
        assert resp.status_code == 401
        assert _message(resp) == "user name and password are both required"
    assert known.json() == unknown.json()  # an empty password says nothing about the user
    last = live.engine.audit_log.tail(1)[0]
    assert (last["action"], last["result"], last["detail"]) == (
        "login",
        "denied",
        "empty user name or password",
    )


def test_logout_revokes_the_token(live: LiveEngine) -> None:
    token = _login(live, "viewer", PASSWORD).json()["token"]
    client = live.client(token)
    assert client.get(f"{API}/vms").status_code == 200
    before = live.engine.audit_log.last_seq
    resp = client.request("DELETE", f"{API}/sessions/current")
    assert resp.status_code == 200 and resp.json() == {"result": "signed out"}
    (rec,) = live.engine.audit_log.read(since_seq=before)
    assert (rec["actor"], rec["action"], rec["result"]) == ("viewer", "logout", "ok")
    for path in ("vms", "sessions/current"):
        resp = client.get(f"{API}/{path}")
        assert resp.status_code == 401
        assert _message(resp) == "session expired or signed out: sign in again"
    assert client.request("DELETE", f"{API}/sessions/current").status_code == 401


def test_logout_ends_only_that_session(live: LiveEngine) -> None:
    first, second = (_login(live, "viewer", PASSWORD).json()["token"] for _ in range(2))
    assert live.client(first).request("DELETE", f"{API}/sessions/current").status_code == 200
    assert live.client(second).get(f"{API}/vms").status_code == 200


def test_session_expires_after_its_lifetime_even_when_used(start_engine) -> None:
    live = start_engine()
    clock = FakeClock()
    _use_clock(live, clock, ttl=600, idle=120)
    client = live.client(_login(live, "viewer", PASSWORD).json()["token"])
    for _ in range(5):  # used every 100 s: never idle, but 500 s old
        clock.now += 100
        assert client.get(f"{API}/sessions/current").status_code == 200
    clock.now += 100
    assert client.get(f"{API}/sessions/current").status_code == 200  # 600 s: still within
    clock.now += 1
    resp = client.get(f"{API}/sessions/current")
    assert resp.status_code == 401
    assert _message(resp) == "session expired or signed out: sign in again"
    clock.now -= 300  # and it stays gone: an expired session is removed, not suspended
    assert client.get(f"{API}/sessions/current").status_code == 401


def test_idle_session_expires(start_engine) -> None:
    live = start_engine()
    clock = FakeClock()
    _use_clock(live, clock, ttl=3600, idle=120)
    busy = live.client(_login(live, "viewer", PASSWORD).json()["token"])
    idle = live.client(_login(live, "auditor", PASSWORD).json()["token"])
    clock.now += 100
    assert busy.get(f"{API}/vms").status_code == 200
    clock.now += 100  # busy was used 100 s ago, idle 200 s ago
    assert busy.get(f"{API}/vms").status_code == 200
    resp = idle.get(f"{API}/vms")
    assert resp.status_code == 401
    assert "sign in again" in _message(resp)


def test_session_store_directly() -> None:
    clock = FakeClock()
    store = SessionStore(ttl_seconds=100, idle_seconds=30, clock=clock)
    alice = Principal("alice", frozenset({"ReadOnly"}))
    bob = Principal("bob", frozenset({"ReadOnly"}))
    a1, a2, b1 = store.create(alice), store.create(alice), store.create(bob)
    assert len({a1, a2, b1}) == 3
    assert store.lookup(a1) == alice and store.lookup("nonsense") is None
    clock.now += 30
    assert store.lookup(a1) == alice  # exactly at the idle limit: still valid
    clock.now += 31
    assert store.lookup(a1) is None  # 31 s idle
    assert store.revoke(a2) is True and store.revoke(a2) is False
    assert store.lookup(a2) is None
    assert store.revoke_user("bob") == 1 and store.lookup(b1) is None


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", ("invalid request: ", "JSON decode error")),
        (b"", ("invalid request: ", "body")),
        (b'{"username": "operator"}', ("body.password", "Field required")),
        (b'{"password": "demo"}', ("body.username", "Field required")),
        (b'{"username": 7, "password": "demo"}', ("body.username", "string")),
        (b'["operator", "demo"]', ("invalid request: ", "body")),
    ],
    ids=["bad-json", "empty", "no-password", "no-username", "number", "list"],
)
def test_malformed_login_body_is_422_with_a_message(
    live: LiveEngine, content: bytes, words: tuple[str, ...]
) -> None:
    resp = live.client().post(
        f"{API}/sessions", content=content, headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 422
    message = _message(resp)
    for word in words:
        assert word in message, message


def test_oversized_credentials_are_refused(live: LiveEngine) -> None:
    resp = _login(live, "operator", "x" * 5000)
    assert resp.status_code == 422 and "body.password" in _message(resp)
    resp = _login(live, "u" * 300, PASSWORD)
    assert resp.status_code == 422 and "body.username" in _message(resp)


def test_repeated_failures_lock_the_user_name(start_engine) -> None:
    live = start_engine()
    limit = live.config.auth.throttle.max_failures
    for _ in range(limit):
        assert _login(live, "poweruser", "guess").status_code == 401
    resp = _login(live, "poweruser", PASSWORD)  # the right password no longer helps
    assert resp.status_code == 401
    assert "too many failed sign-ins for user poweruser" in _message(resp)
    assert _login(live, "operator", PASSWORD).status_code == 200  # other users are not locked
    last = live.engine.audit_log.tail(1)[0]
    assert (last["actor"], last["action"], last["result"]) == ("operator", "login", "ok")


def test_every_role_can_sign_in(live: LiveEngine) -> None:
    for role, user in ROLE_USERS.items():
        body = _login(live, user, PASSWORD).json()
        assert (body["user"], body["roles"]) == (user, [role])


def test_a_slow_sign_in_does_not_stall_the_api(live: LiveEngine, monkeypatch) -> None:
    # A directory bind, or scrypt at production cost, takes time: other clients must not wait.
    # The sign-in is held inside authenticate until /health has answered: if the API waited
    # for it, /health would never answer (its client gives up after 10 s and the test fails).
    local = live.engine.signin.local
    real = local.authenticate
    inside, release = threading.Event(), threading.Event()

    def slow(username: str, password: str) -> Any:
        inside.set()
        release.wait(60)
        return real(username, password)

    monkeypatch.setattr(local, "authenticate", slow)
    done: list[int] = []
    signing_in = threading.Thread(
        target=lambda: done.append(_login(live, "operator", PASSWORD).status_code)
    )
    signing_in.start()
    try:
        assert inside.wait(60), "the sign-in never reached authenticate"
        resp = live.client().get(f"{API}/health", timeout=10)
        answered_while_signing_in = not release.is_set() and signing_in.is_alive()
    finally:
        release.set()
        signing_in.join(60)
    assert resp.status_code == 200
    assert answered_while_signing_in, "/health was answered only after the sign-in finished"
    assert done == [200]
