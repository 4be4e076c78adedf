"""Column layouts of the host and VM tables, and how a row becomes cells."""

from __future__ import annotations

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
    reason = host.state_reason or ("in maintenance" if host.maintenance else "")
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
