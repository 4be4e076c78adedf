"""The Networks screen (`:networks`): each logical network, its settings, and its hosts.

A client of GET /api/v1/networks like every screen; fetched again on each refresh tick while
shown. VLAN tags and bonds are marked untested, as the API marks them; "Defined in" says where
a network is changed (ovtui.toml, or the API: `ovtui network create|attach|delete`).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ovtui.client import ApiError
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.keyed_table import Col, KeyedTable
from ovtui.tui.poller import Poller
from ovtui.tui.screen_load import while_shown

COLUMNS = (
    Col("name", "Network"),
    Col("datacenter", "DC"),
    Col("bridge", "Bridge"),
    Col("mtu", "MTU"),
    Col("vlan", "VLAN"),
    Col("clusters", "Clusters"),
    Col("up", "Hosts up"),
    Col("missing", "Missing on"),
    Col("source", "Defined in"),
)
SOURCES = {"config": "ovtui.toml", "api": "API"}


def cells(net: dict[str, Any]) -> tuple[str, ...]:
    hosts = net.get("hosts") or []
    down = [f"{h['host']}{'!' if h.get('required') else ''}" for h in hosts if h["state"] != "up"]
    vlan = net.get("vlan")
    untested = " (untested)" if net.get("untested") else ""
    return (  # in the order of COLUMNS
        str(net["name"]),
        str(net.get("datacenter", "")),
        str(net.get("bridge", "")) + (f" bond {net['bond']}" if net.get("bond") else ""),
        str(net.get("mtu", "")),
        ("-" if vlan is None else str(vlan)) + untested,
        ", ".join(f"{c} ({k})" for c, k in (net.get("clusters") or {}).items()),
        f"{len(hosts) - len(down)}/{len(hosts)}",
        ", ".join(down) or "-",
        SOURCES.get(str(net.get("source")), "?"),
    )


class NetworksScreen(FleetScreen):
    DEFAULT_CSS = """
    NetworksScreen #networks-note { height: auto; padding: 0 1; color: $text-muted; }
    NetworksScreen KeyedTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "back", tooltip="back to the dashboard")]
    HELP_TITLE = "networks"

    def __init__(self, chrome: Chrome, poller: Poller) -> None:
        super().__init__(chrome)
        self.poller = poller
        self.loads = 0  # completed loads; tests wait on it

    def body(self) -> ComposeResult:
        yield Static("loading…", id="networks-note", markup=False)
        yield KeyedTable(COLUMNS, sort="name", id="networks-table")

    def on_mount(self) -> None:
        self.query_one(KeyedTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="networks")

    async def _load(self) -> None:
        try:
            nets = await self.poller.get("/api/v1/networks")
        except ApiError as exc:
            if exc.status:
                self.query_one("#networks-note", Static).update(exc.message)
            return
        self.query_one(KeyedTable).sync({f"{n['datacenter']}/{n['name']}": cells(n) for n in nets})
        note = f"{len(nets)} logical networks · Missing on: hosts without it up (! = required)"
        if any(n.get("untested") for n in nets):
            note += " · VLAN/bond settings are UNTESTED (no 802.1Q or bonding in the lab)"
        self.query_one("#networks-note", Static).update(note)
        self.loads += 1
