"""The overview's tree: data center → cluster → host rows, with load bars and trends.

Row keys are history keys ('dc1', 'dc1/prod-a', 'dc1/prod-a/kvm-a01'); the name cell sorts by
the path, so the table's ordinary sort by name keeps the tree in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from operator import attrgetter

from rich.text import Text

from ovtui.tui import fmt
from ovtui.tui.history import History, Load, group_key, spark
from ovtui.tui.keyed_table import Cell, Col
from ovtui.tui.rows import FleetData, HostRow, VmRow, vm_active

TREND_WIDTH = 10
_WHERE_AND_STATE = attrgetter("host", "state", "migration_mode")

OVERVIEW_COLUMNS = (
    Col("name", "Fleet"),  # data center > cluster > host
    Col("state", "State"),
    Col("cpu", "CPU", 11),
    Col("memory", "Memory", 11),
    Col("vms", "VMs"),
    Col("trend", "CPU trend", TREND_WIDTH + 1),
)


def _name(path: tuple[str, ...]) -> fmt.SortCell:
    style = ("bold", "bold", "")[len(path) - 1]
    return fmt.SortCell("  " * (len(path) - 1) + path[-1], path, style)


def _group_state(hosts: list[HostRow]) -> fmt.SortCell:
    up = sum(h.up and not h.maintenance for h in hosts)
    style = "green" if up == len(hosts) else "yellow" if up else "red"
    return fmt.SortCell(f"{up}/{len(hosts)} up", (up, len(hosts)), style)


def _trend(history: History, key: str, synthetic: bool) -> Text:
    line = spark(history.cpu.get(key, ()), TREND_WIDTH)
    return Text(line + (fmt.SYNTHETIC_MARK if synthetic and line else ""), style="cyan")


def row_cells(
    path: tuple[str, ...], hosts: list[HostRow], running: int, defined: int, history: History
) -> list[Cell]:
    load = Load.of(hosts)
    state = fmt.host_state(hosts[0].state, hosts[0].maintenance)
    return [
        _name(path),
        state if len(path) == 3 else _group_state(hosts),
        fmt.bar(load.cpu, load.synthetic),
        fmt.bar(load.memory, False),  # committed memory: real figures, even in the demo
        fmt.number(running, f"{running}/{defined}"),
        _trend(history, group_key(*path), load.synthetic),
    ]


class VmCounts:
    """VMs defined and running per host, counted again only when the VM list is a new one
    (hosts move at every poll; at 20 000 VMs, counting them each time was most of a poll)."""

    def __init__(self) -> None:
        self._of: tuple[VmRow, ...] | None = None
        self.defined: Counter[str] = Counter()
        self.running: Counter[str] = Counter()

    def of(self, vms: tuple[VmRow, ...]) -> VmCounts:
        if vms is not self._of:
            self._of = vms
            # Counted by (host, state, migration mode) at C speed, then summed per host.
            self.defined, self.running = Counter(), Counter()
            for (host, state, mode), n in Counter(map(_WHERE_AND_STATE, vms)).items():
                self.defined[host] += n
                if vm_active(state, mode):
                    self.running[host] += n
        return self


def group_paths(hosts: Iterable[HostRow]) -> dict[tuple[str, ...], list[HostRow]]:
    """Each row's path (data center, cluster, host) and the hosts under it."""
    groups: dict[tuple[str, ...], list[HostRow]] = {}
    for h in hosts:
        for path in ((h.datacenter,), (h.datacenter, h.cluster), (h.datacenter, h.cluster, h.name)):
            groups.setdefault(path, []).append(h)
    return groups


def overview_rows(
    fleet: FleetData, history: History, counts: VmCounts | None = None
) -> dict[str, list[Cell]]:
    """Every row's cells (the table makes only those it draws: overview_source.py)."""
    counted = (counts or VmCounts()).of(fleet.vms)
    defined, running = counted.defined, counted.running
    return {
        group_key(*path): row_cells(
            path, hosts, _sum(running, hosts), _sum(defined, hosts), history
        )
        for path, hosts in group_paths(fleet.hosts).items()
    }


def _sum(counts: Counter[str], hosts: Iterable[HostRow]) -> int:
    return sum(counts[h.name] for h in hosts)
