"""The templates screen and the new-VM form, against a real in-process engine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from textual.widgets import Input

from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.new_vm_form import NewVmForm, body_of
from ovtui.tui.templates_view import TemplatesScreen
from tests.conftest import API, LiveEngine
from tests.provision.test_create_api import _spec
from tests.storage.helpers import all_read, wait_storage, with_domains

from .conftest import wait_for
from .policy_fleet import Session

GIB = 1 << 30


def test_the_form_body() -> None:
    key = "ssh-ed25519 AAAA k"
    values = {"name": "w", "template": "base", "vcpus": "2", "memory": "", "disk": "shared:2G",
              "network": "br0", "hostname": "w", "key": key}  # fmt: skip
    assert body_of(values) == {
        "name": "w", "template": "base", "vcpus": 2,
        "disks": [{"storage": "shared", "size_bytes": 2 * GIB}], "nics": [{"source": "br0"}],
        "cloud_init": {"hostname": "w", "users": [{"name": "ops", "ssh_keys": [key]}]},
    }  # fmt: skip
    with pytest.raises(ValueError, match="vcpus: a whole number"):
        body_of({"name": "w", "vcpus": "two"})
    with pytest.raises(ValueError, match="disk: DOMAIN:SIZE"):
        body_of({"name": "w", "disk": "shared:lots"})


@pytest.fixture
def live() -> Iterator[LiveEngine]:
    # local to h2: the template's volume is there, so the scheduler puts VMs from it there
    config = with_domains(
        _spec(), [{"name": "loc", "type": "local", "path": "/srv/l", "hosts": ["h2"]}]
    )
    engine = LiveEngine(config)
    try:
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(config.engine.store_dir.parent, ignore_errors=True)


async def test_templates_and_a_new_vm_from_one(live: LiveEngine) -> None:
    session = Session(live)
    admin = live.client(session.token("admin"))
    wait_storage(admin, all_read)
    body = {"name": "gold", "disks": [{"storage": "loc", "size_bytes": GIB}]}
    assert admin.post(f"{API}/clusters/c1/vms", json=body).status_code == 201
    assert admin.post(f"{API}/vms/gold/template", json={"name": "base"}).status_code == 201
    app = session.host("admin", TemplatesScreen)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.view
        assert isinstance(screen, TemplatesScreen)
        await wait_for(pilot, lambda: screen.loads, what="the templates")
        table = screen.query_one("#templates", KeyedTable)
        assert [str(c) for c in table.get_row("base")][:4] == [
            "base", "dc1", "loc/base-tpl-disk1.qcow2", "gold"
        ]  # fmt: skip
        assert screen.check_action("new_vm", ()) and screen.check_action("delete", ())
        table.move_cursor(row=table.get_row_index("base"))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewVmForm), what="the form")
        form = app.screen
        assert form.query_one("#f-template", Input).value == "base"
        form.query_one("#f-name", Input).value = "from-tui"
        form.query_one("#f-cluster", Input).value = "c1"
        await pilot.click("#create")
        await wait_for(
            pilot,
            lambda: live.engine.snapshot().vms_named("from-tui") or None,
            timeout=10,
            what="the VM made from the form",
        )
    rec = next(r for r in live.engine.provision.definitions.all() if r["name"] == "from-tui")
    assert (rec["template"], rec["thin"], rec["created_by"]) == ("base", True, "admin")


async def test_actions_are_offered_only_with_the_rights(live: LiveEngine) -> None:
    session = Session(live)
    app = session.host("viewer", TemplatesScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.view
        assert isinstance(screen, TemplatesScreen)
        await wait_for(pilot, lambda: screen.loads, what="the templates")
        assert not screen.check_action("new_vm", ())
        assert not screen.check_action("delete", ())
        assert screen.check_action("app.pop_screen", ())
