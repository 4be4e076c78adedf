"""The overview's rows for a VirtualTable: a row's cells are made when it is drawn.

Every host's figures and every row's trend line move at each engine reading, so the tree's
rows were all formatted again each time (525 rows at 500 hosts, ~50 ms) and compared cell by
cell, for the forty or so on screen. Here a reading only regroups the hosts; the cells of a row
are made when the table draws it, once per reading, and a row drawn the same as before keeps
its cells object (the table then does not draw it again).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ovtui.tui import fmt, quiet
from ovtui.tui.history import History, group_key
from ovtui.tui.overview_rows import VmCounts, group_paths, row_cells
from ovtui.tui.rows import FleetData, HostRow


class OverviewSource:
    def __init__(self) -> None:
        self.version = 0  # moves when the tree's rows change (the table's sorted order)
        self.made = 0  # rows formatted (tests count them)
        self._history = History()
        self._counts = VmCounts()
        self._paths: dict[str, tuple[str, ...]] = {}
        self._groups: dict[str, list[HostRow]] = {}
        self._reading = 0
        self._cells: dict[str, tuple[int, list[Any]]] = {}  # key -> (reading, its cells)
        self._widths: dict[str, int] = {}
        self._state_widths: dict[tuple[str, bool], int] = {}

    def update(self, fleet: FleetData, history: History, counts: VmCounts) -> None:
        """A new reading: cells made before are stale (compared when next asked for)."""
        self._history, self._counts = history, counts.of(fleet.vms)
        groups = group_paths(fleet.hosts)
        paths = {group_key(*p): p for p in groups}
        if paths.keys() != self._paths.keys():
            self.version += 1
            self._cells = {k: c for k, c in self._cells.items() if k in paths}
        self._paths = paths
        self._groups = {group_key(*p): hosts for p, hosts in groups.items()}
        self._reading += 1
        self._widths = self._measure()

    def all_keys(self) -> Iterable[str]:
        return self._paths.keys()

    def cells(self, key: str) -> Sequence[Any]:
        made = self._cells.get(key)
        if made is not None and made[0] == self._reading:
            return made[1]
        self.made += 1
        hosts, counts = self._groups[key], self._counts
        cells = row_cells(
            self._paths[key],
            hosts,
            sum(counts.running[h.name] for h in hosts),
            sum(counts.defined[h.name] for h in hosts),
            self._history,
        )
        if made is not None and len(made[1]) == len(cells):
            # A cell drawn the same keeps its object (the table's render cache is keyed by it:
            # a new trend point renders the trend cell again, not the row); a row drawn the
            # same keeps its list (the table then does not draw the row again).
            kept = [a if quiet.same_cell(a, b) else b for a, b in zip(made[1], cells, strict=True)]
            cells = made[1] if all(map(operator.is_, kept, made[1])) else kept
        self._cells[key] = (self._reading, cells)
        return cells

    def sort_keys(self, keys: list[str], column: str) -> list[tuple[Any, ...]]:
        # The tree's order is its paths' (TreeTable sorts by nothing else).
        return [self._paths[k] for k in keys]

    def widths(self) -> Mapping[str, int]:
        return self._widths

    def _measure(self) -> dict[str, int]:
        """The widest text of the auto-sized columns, from the figures (no cells made)."""
        name = state = vms = 0
        counts = self._counts
        for key, path in self._paths.items():
            hosts = self._groups[key]
            name = max(name, 2 * (len(path) - 1) + len(path[-1]))
            if len(path) == 3:
                state = max(state, self._state_width(hosts[0]))
            else:
                state = max(state, len(f"{len(hosts)}/{len(hosts)} up"))
            running = sum(counts.running[h.name] for h in hosts)
            defined = sum(counts.defined[h.name] for h in hosts)
            vms = max(vms, len(f"{running}/{defined}"))
        return {"name": name, "state": state, "vms": vms}

    def _state_width(self, host: HostRow) -> int:
        key = (host.state, host.maintenance)
        if key not in self._state_widths:
            self._state_widths[key] = len(str(fmt.host_state(*key)))
        return self._state_widths[key]
