"""Column layouts of the host and VM tables, and how a row becomes cells."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import Any

from ovtui.tui import fmt
from ovtui.tui.keyed_table import Cell, Col
from ovtui.tui.rows import HostRow, VmRow

HOST_COLUMNS = (
    Col("name", "Host"),
    Col("state", "State"),
    Col("cluster", "Cluster"),
    Col("cpus", "CPUs"),
    Col("cpu", "CPU%", 11),
    Col("memory", "Mem used"),
    Col("vms", "VMs"),
    Col("migration", "Migr"),
    Col("reason", "Reason"),
)

VM_COLUMNS = (
    Col("name", "VM"),
    Col("state", "State"),
    Col("host", "Host"),
    Col("cluster", "Cluster"),
    Col("vcpus", "vCPU"),
    Col("memory", "GiB"),  # bare numbers: keeps the table within 80 columns
    Col("cpu", "CPU%", 5),
    Col("flags", "Flags"),
)


def host_cells(host: HostRow, vms_defined: int) -> list[Cell]:
    reason = _reason(host)
    return [
        host.name,
        fmt.host_state(host.state, host.maintenance),
        host.cluster,
        fmt.number(host.cpus),
        fmt.bar(host.cpu_usage, host.synthetic),
        # Some VM's XML is still being read (start-up): its memory is not counted yet.
        fmt.pending()
        if host.vms_config_pending
        else fmt.used_of(host.memory_used_mib, host.memory_mib),
        fmt.number(host.vms_running, f"{host.vms_running}/{vms_defined}"),
        "live" if host.live_migration else "cold",
        reason,
    ]


def vm_cells(vm: VmRow, selected: bool = False) -> list[Cell]:
    return [
        fmt.selected(vm.name) if selected else vm.name,
        fmt.vm_state(vm.state, vm.migration_target),
        vm.host,
        vm.cluster,
        fmt.pending() if vm.config_pending else fmt.number(vm.vcpus),
        fmt.pending() if vm.config_pending else fmt.gib_number(vm.memory_mib),
        # A stopped VM has no load at all: blank rather than a stale or invented figure.
        fmt.percent(vm.cpu_usage if vm.active else None, vm.synthetic),
        fmt.pending()
        if vm.config_pending
        else fmt.flags(vm.highly_available, vm.pinned, vm.migratable),
    ]


# What each VM column sorts by, from the row itself (no cells made): the sort keys vm_cells'
# cells carry, so the VM table orders rows as a table of those cells would.
VM_SORT_KEYS: dict[str, Callable[[VmRow], tuple[Any, ...]]] = {
    "name": lambda v: (v.name.lower(),),
    "state": lambda v: (v.state,),
    "host": lambda v: (v.host.lower(),),
    "cluster": lambda v: (v.cluster.lower(),),
    "vcpus": lambda v: (v.vcpus,),
    "memory": lambda v: (v.memory_mib,),
    "cpu": lambda v: (v.cpu_usage if v.active and v.cpu_usage is not None else -1.0,),
    "flags": lambda v: (len(w := _words(v)), w),
}


def host_widths(hosts: Iterable[HostRow], defined: Mapping[str, int]) -> dict[str, int]:
    """The width of each auto-sized host column's text over these hosts, from their fields
    (no cells made; host_cells' texts)."""
    rows = list(hosts)
    states = {(h.state, h.maintenance) for h in rows}
    memory = {(h.vms_config_pending > 0, h.memory_used_mib, h.memory_mib) for h in rows}
    return {
        "name": max((len(h.name) for h in rows), default=0),
        "state": max((len(str(fmt.host_state(*s))) for s in states), default=0),
        "cluster": max((len(h.cluster) for h in rows), default=0),
        "cpus": max((len(str(h.cpus)) for h in rows), default=0),
        "memory": max(
            (1 if pending else len(f"{fmt.gib(u)}/{fmt.gib(t)}") for pending, u, t in memory),
            default=0,
        ),
        "vms": max((len(f"{h.vms_running}/{defined[h.name]}") for h in rows), default=0),
        "migration": 4 if rows else 0,
        "reason": max((len(_reason(h)) for h in rows), default=0),
    }


def _reason(host: HostRow) -> str:
    return host.state_reason or ("in maintenance" if host.maintenance else "")


def vm_widths(vms: Iterable[VmRow]) -> dict[str, int]:
    """The width of each auto-sized VM column's text over these rows, from the rows' fields
    (no cells made): over the distinct values, found by C-level maps (20 000 VMs, each read)."""
    rows = list(vms)

    def distinct(*fields: str) -> set[Any]:
        return set(map(attrgetter(*fields), rows))

    def widest(texts: Iterable[str]) -> int:
        return max(map(len, texts), default=0)

    return {
        "name": widest(map(attrgetter("name"), rows)),
        "state": widest(fmt.vm_state_label(*p) for p in distinct("state", "migration_target")),
        "host": widest(distinct("host")),
        "cluster": widest(distinct("cluster")),
        "vcpus": widest(map(str, distinct("vcpus"))),
        "memory": widest(map(fmt.gib_number_text, distinct("memory_mib"))),
        "flags": widest(" ".join(fmt.flag_words(*f)) for f in distinct(*_FLAGS)),
    }


_FLAGS = ("highly_available", "pinned", "migratable")


def _words(vm: VmRow) -> list[str]:
    return fmt.flag_words(vm.highly_available, vm.pinned, vm.migratable)
