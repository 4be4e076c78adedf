"""The storage screen (`:storage`): domains with a capacity bar per host, disks with their VMs,
and disk moves with a progress bar while they run. A client of the API only."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ovtui.client import ApiError
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.keyed_table import Col, KeyedTable
from ovtui.tui.poller import Poller
from ovtui.tui.screen_load import while_shown
from ovtui.tui.storage_rows import disk_cells, domain_cells, moves_text

DOMAIN_COLUMNS = (
    Col("name", "Domain"),
    Col("type", "Type"),
    Col("state", "State"),
    Col("size", "Size"),
    Col("free", "Free"),
    Col("hosts", "Used, per host"),
)
DISK_COLUMNS = (
    Col("name", "Disk"),
    Col("domain", "Domain"),
    Col("format", "Format"),
    Col("alloc", "Alloc"),
    Col("size", "Size"),
    Col("used", "Used"),
    Col("vms", "VM:device"),
)


class StorageScreen(FleetScreen):
    DEFAULT_CSS = """
    StorageScreen #storage-domains { height: auto; max-height: 40%; }
    StorageScreen #storage-disks { height: 1fr; }
    StorageScreen #storage-moves { height: auto; padding: 0 1; border: round $accent; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "back", tooltip="back to the dashboard")]
    HELP_TITLE = "storage"

    def __init__(self, chrome: Chrome, poller: Poller) -> None:
        super().__init__(chrome)
        self.poller = poller
        self.loads = 0  # completed loads; tests wait on it

    def body(self) -> ComposeResult:
        yield KeyedTable(DOMAIN_COLUMNS, id="storage-domains")
        yield KeyedTable(DISK_COLUMNS, sort="name", id="storage-disks")
        moves = Static("loading…", id="storage-moves", markup=False)
        moves.border_title = "disk moves"
        yield moves

    def on_mount(self) -> None:
        self.query_one("#storage-domains", KeyedTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="storage")

    async def _load(self) -> None:
        try:
            domains, disks, moves = await asyncio.gather(
                self.poller.get("/api/v1/storage"),
                self.poller.get("/api/v1/disks"),
                self.poller.get("/api/v1/disk-moves"),
            )
        except ApiError as exc:
            if exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#storage-moves", Static).update(exc.message)
            return
        self.query_one("#storage-domains", KeyedTable).sync(
            {d["name"]: domain_cells(d) for d in domains}
        )
        self.query_one("#storage-disks", KeyedTable).sync(
            {f"{d['domain']}/{d['volume']}": disk_cells(d) for d in disks}
        )
        self.query_one("#storage-moves", Static).update(moves_text(moves))
        self.loads += 1
