"""The audit screen against a real in-process engine: newest first, paging, filter, detail,
the hash-chain check (intact, and broken by an edited record), and who may see it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Input, Static

from ovtui.tui.audit_detail import AuditDetail
from ovtui.tui.audit_rows import AuditFilterError, chain_status, parse_filter
from ovtui.tui.audit_view import AuditScreen
from ovtui.tui.keyed_table import KeyedTable

from .conftest import wait_for
from .policy_fleet import Session, frozen_engine, policy_spec

API = "/api/v1"


@pytest.fixture
def session() -> Iterator[Session]:
    with frozen_engine(policy_spec()) as live:
        yield Session(live)


def chain_line(screen: AuditScreen) -> str:
    return str(screen.query_one("#audit-chain", Static).render())


async def loaded(pilot: Any, screen: AuditScreen, after: int = 0) -> None:
    """Waits for a load completed after `after` loads (pass screen.loads read before acting)."""
    await wait_for(pilot, lambda: screen.loads > after, what="the audit records")


def keys(screen: Any) -> set[str]:
    return {k for k, b in screen.active_bindings.items() if b.enabled}


# -- pure ------------------------------------------------------------------------------------
def test_filter_fields_and_words() -> None:
    rec = {"actor": "Alice", "action": "policy.apply", "target": "cluster/c1", "result": "ok",
           "detail": "applied: 2 of 2 steps done"}  # fmt: skip
    assert parse_filter("")(rec) and parse_filter("").empty
    assert parse_filter("actor:ali result:ok")(rec)
    assert not parse_filter("actor:bob")(rec)
    assert parse_filter("steps c1")(rec)  # free words: any field or the detail
    assert not parse_filter("steps c2")(rec)
    with pytest.raises(AuditFilterError, match="unknown field 'who'"):
        parse_filter("who:alice")


def test_chain_status_of_a_window_says_what_was_checked() -> None:
    assert chain_status([]).text == "no audit records yet"
    # A window whose first record does not follow genesis, and whose hashes are made up.
    forged = [{"seq": 5, "prev": "x", "hash": "y", "actor": "a"}]
    status = chain_status(forged)
    assert not status.ok and "content does not match its hash" in status.text


# -- against the engine ----------------------------------------------------------------------
async def test_newest_first_refresh_filter_and_detail(session: Session) -> None:
    session.token("auditor")
    session.call("admin", "POST", f"{API}/policies/c1/run")
    denied = session.live.client(session.token("viewer")).post(f"{API}/policies/c1/run")
    assert denied.status_code == 403
    app = session.host("auditor", AuditScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.view
        assert isinstance(screen, AuditScreen)
        await loaded(pilot, screen)
        table = screen.query_one(KeyedTable)
        records = session.live.audit_records()
        assert table.keys == [str(r["seq"]) for r in reversed(records)]  # newest first
        assert chain_line(screen) == (
            f"✓ hash chain intact: all {len(records)} records (seq 1-{len(records)})"
        )
        assert str(table.get_cell(table.keys[0], "action")) == "policy.manage"  # what was refused
        assert str(table.get_cell(table.keys[0], "result")) == "denied"

        table.move_cursor(row=2)
        kept = table.cursor_key
        session.call("admin", "PUT", f"{API}/policies/c1/mode", json={"mode": "off"})
        before = screen.loads
        screen.reload()  # what each refresh tick does
        await loaded(pilot, screen, before)
        assert table.row_count == len(records) + 1
        assert str(table.get_cell(table.keys[0], "action")) == "policy.mode"
        assert table.cursor_key == kept  # the cursor stays on its record

        await pilot.press("slash", *"result:denied")
        await wait_for(pilot, lambda: table.row_count == 1, what="the filter")
        assert "1 match the filter" in str(screen.query_one("#audit-count", Static).render())
        screen.query_one(Input).value = "bogus:x"
        await pilot.pause()
        assert table.row_count == 1 and screen.query_one(Input).has_class("-invalid")
        screen.query_one(Input).value = "actor:admin policy"
        await wait_for(pilot, lambda: table.row_count == 2, what="actor and word filter")
        await pilot.press("enter", "enter")  # keep the filter, open the newest match
        await wait_for(pilot, lambda: isinstance(app.screen, AuditDetail))
        detail = app.screen.text  # type: ignore[attr-defined]
        assert "action   policy.mode" in detail and '"mode": "off"' in detail
        assert detail.endswith("hash matches the content")
        await pilot.press("escape", "escape")  # close the detail, then clear the filter
        await wait_for(pilot, lambda: table.row_count == len(records) + 1)
        assert app.screen is screen


async def test_paging_back_to_the_first_record(session: Session) -> None:
    for user in ("admin", "operator", "viewer", "poweruser"):
        session.token(user)
    app = session.host("auditor", AuditScreen)
    screen = app.view
    assert isinstance(screen, AuditScreen)
    screen.page = 2
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot, screen)
        total = len(session.live.audit_records())  # 5 sign-ins
        assert sorted(screen.records) == [total - 1, total]
        assert f"intact over the loaded seq {total - 1}-{total}" in chain_line(screen)
        assert "b" in keys(screen)
        before = screen.loads
        await pilot.press("b")
        await loaded(pilot, screen, before)
        assert sorted(screen.records) == list(range(total - 3, total + 1))
        before = screen.loads
        await pilot.press("b")
        await loaded(pilot, screen, before)
        assert sorted(screen.records) == list(range(1, total + 1))
        assert chain_line(screen).startswith(f"✓ hash chain intact: all {total} records")
        assert "b" not in keys(screen)  # nothing older


async def test_an_edited_record_breaks_the_chain_on_screen(session: Session) -> None:
    for user in ("admin", "viewer", "auditor"):
        session.token(user)
    path = session.live.audit_path
    text = path.read_text()
    assert '"actor":"viewer"' in text
    path.write_text(text.replace('"actor":"viewer"', '"actor":"Viewer"'))  # same length
    app = session.host("auditor", AuditScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.view
        assert isinstance(screen, AuditScreen)
        await loaded(pilot, screen)
        line = screen.query_one("#audit-chain", Static)
        assert chain_line(screen).startswith("✗ hash chain BROKEN: record 1 (seq 2)")
        assert "content does not match its hash" in chain_line(screen)
        assert line.has_class("-broken")


async def test_without_audit_read_nothing_is_shown(session: Session) -> None:
    app = session.host("clusteradmin", AuditScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.view
        assert isinstance(screen, AuditScreen)
        await wait_for(pilot, lambda: screen.allowed is False)
        assert "do not include audit.read" in chain_line(screen)
        assert not screen.query_one(KeyedTable).display
        assert not {"slash", "b"} & keys(screen)


async def test_the_dashboard_opens_the_audit_trail_with_a_command(session: Session) -> None:
    app = session.app("auditor")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, what="the first poll")
        await pilot.press("colon", *"audit", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await loaded(pilot, screen)
        assert screen.query_one(KeyedTable).row_count == len(session.live.audit_records())
        await pilot.press("escape")
        assert app.screen is app.dashboard
