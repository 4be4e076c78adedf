"""The provisioning screen (clone, edit, delete, snapshots) against a real in-process engine."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from ovtui.tui.fields_form import FieldsForm
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.provision_view import ProvisionScreen, edit_body
from ovtui.tui.snapshots_view import SnapshotsScreen
from tests.conftest import API, LiveEngine
from tests.storage.helpers import all_read, wait_storage

from .conftest import wait_for
from .policy_fleet import Session
from .test_templates_view import live  # noqa: F401 - the fixture

GIB = 1 << 30


def test_edit_body() -> None:
    assert edit_body({"vcpus": "2", "memory": "", "ha": "yes", "priority": "70"}) == {
        "vcpus": 2, "highly_available": True, "ha_priority": 70
    }  # fmt: skip
    with pytest.raises(ValueError, match="memory: a whole number"):
        edit_body({"memory": "lots"})


async def test_clone_snapshot_edit_and_delete(live: LiveEngine) -> None:  # noqa: F811
    session = Session(live)
    admin = live.client(session.token("admin"))
    wait_storage(admin, all_read)
    body = {"name": "gold", "disks": [{"storage": "loc", "size_bytes": GIB}]}
    assert admin.post(f"{API}/clusters/c1/vms", json=body).status_code == 201
    app = session.host("admin", ProvisionScreen)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.view
        assert isinstance(screen, ProvisionScreen)
        await wait_for(pilot, lambda: screen.loads, what="the VMs")
        table = screen.query_one("#prov-vms", KeyedTable)
        table.move_cursor(row=table.get_row_index("gold"))
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, FieldsForm), what="clone form")
        assert app.screen.query_one("#f-name", Input).value == "gold-clone"
        await pilot.click("#ok")
        await wait_for(pilot, lambda: live.engine.snapshot().vms_named("gold-clone") or None,
                       what="the clone")  # fmt: skip
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FieldsForm), what="edit form")
        app.screen.query_one("#f-vcpus", Input).value = "3"
        await pilot.click("#ok")
        said = screen.query_one("#prov-said")
        await wait_for(pilot, lambda: "vcpus defined" in str(said.render()), what="the answer")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotsScreen), what="snapshots")
        snaps = app.screen
        await wait_for(pilot, lambda: snaps.loads, what="the snapshots")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, FieldsForm), what="take form")
        app.screen.query_one("#f-name", Input).value = "first"
        await pilot.click("#ok")
        await wait_for(pilot, lambda: snaps.query_one("#snapshots", KeyedTable).row_count == 1,
                       what="the snapshot listed")  # fmt: skip
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        table.move_cursor(row=table.get_row_index("gold-clone"))
        await pilot.press("D")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", what="ask")
        question = str(app.screen.query_one("#question").render())
        assert "gold-clone-disk1.qcow2" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: not live.engine.snapshot().vms_named("gold-clone"),
                       what="the clone deleted")  # fmt: skip
    gold = live.engine.snapshot().vms_named("gold")[0]
    assert gold.vcpus == 3


async def test_keys_need_the_rights(live: LiveEngine) -> None:  # noqa: F811
    app = Session(live).host("viewer", ProvisionScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.view
        assert isinstance(screen, ProvisionScreen)
        await wait_for(pilot, lambda: screen.loads, what="the VMs")
        assert [screen.check_action(a, ()) for a in ("clone", "edit", "delete", "snapshots")] == [
            False, False, False, True
        ]  # fmt: skip
