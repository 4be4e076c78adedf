"""The dashboard's networks: the Networks screen against a real engine, the host detail's
networks line, a VM NIC's link state."""

from __future__ import annotations

from collections.abc import Callable

from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.network_lines import host_networks_line
from ovtui.tui.networks_view import NetworksScreen
from ovtui.tui.views import VIEWS
from ovtui.tui.vm_devices import nic_line
from tests.conftest import API, LiveEngine, fleet_config
from tests.networks.fleet import add_networks
from tests.networks.test_networks_api import NETWORKS, _spec
from tests.tui.conftest import wait_for
from tests.tui.policy_fleet import ViewHost


def test_pure_lines() -> None:
    assert (
        host_networks_line(
            [
                {"name": "prod", "state": "up", "required": True},
                {"name": "bk", "state": "missing", "required": False},
            ]
        )
        == "Networks prod up (required) · bk missing"
    )
    assert host_networks_line([]) == ""
    nic = {"mac": "56:6f:00:00:00:01", "model": "virtio", "type": "network", "source": "prod"}
    assert nic_line({**nic, "link": "down"}) == "56:6f:00:00:00:01  virtio  network prod  link down"
    assert "link" not in nic_line({**nic, "link": "up"})
    assert VIEWS["networks"].cls == "NetworksScreen"


async def test_the_networks_screen_lists_networks_and_where_they_are_missing(
    start_engine: Callable[..., LiveEngine],
) -> None:
    prepare = add_networks({"h1": ["br-prod"], "h3": []}, {"web-1": ["br-prod"]}, NETWORKS)
    live = start_engine(config=fleet_config(_spec(), prepare=prepare))
    live.settle()
    made = live.as_role("SuperUser").post(
        f"{API}/datacenters/dc1/networks",
        json={"name": "lab", "bridge": "br-lab", "clusters": {"c1": "optional"}},
    )
    assert made.status_code == 201, made.text
    app = ViewHost(live.socket, live.login("admin"), NetworksScreen)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = app.view
        assert isinstance(screen, NetworksScreen)
        await wait_for(pilot, lambda: screen.loads > 0, what="the networks")
        table = screen.query_one(KeyedTable)
        await wait_for(pilot, lambda: "dc1/lab" in table.keys, what="the API's network")
        assert table.keys == ["dc1/lab", "dc1/prod", "dc2/store"]
        assert str(table.get_cell("dc1/prod", "source")) == "ovtui.toml"
        assert str(table.get_cell("dc1/lab", "source")) == "API"
        assert str(table.get_cell("dc1/lab", "clusters")) == "c1 (optional)"
        assert str(table.get_cell("dc1/prod", "vlan")) == "42 (untested)"
        assert str(table.get_cell("dc1/prod", "up")) == "1/2"
        assert str(table.get_cell("dc1/prod", "missing")) == "h2!"
        assert str(table.get_cell("dc2/store", "missing")) == "h3"
