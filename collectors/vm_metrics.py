"""VM metric families, written per host: a deleted VM simply is not in its host's next block.

`ovtui_vm_info` is the only VM series with name, host, cluster and datacenter; every other VM
series carries `uuid` (plus `device` or `interface` for block and network counters), so a
migration or a rename changes one info series instead of every series of the VM.

While a VM migrates it can be listed on two hosts at once; each UUID is exported once, from the
host where it is active (running first). State, vCPUs, configured memory and the utilisation gauge
come from the snapshot (and state from the fresher bulk statistics when there are some);
CPU seconds, balloon, vCPU wait/delay, block and interface counters come from libvirt's bulk
statistics and are absent where the driver has none (the test driver reports state only).
Each family is a BlockFamily (collectors.host_blocks), rebuilt for a host when its VMs (any
exported field) or its statistics change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from itertools import chain, groupby
from operator import attrgetter
from typing import Any

from collectors.host_blocks import BlockFamily, HostInputs
from collectors.text_format import escape, value
from ovtui.fleet.reading import vm_state
from ovtui.model import VM, Snapshot, VmState

KIB = 1024
BALLOON = {
    "balloon.current": ("ovtui_vm_memory_balloon_current_bytes", "Memory the balloon leaves"),
    "balloon.maximum": ("ovtui_vm_memory_balloon_maximum_bytes", "Balloon maximum"),
    "balloon.rss": ("ovtui_vm_memory_rss_bytes", "Resident memory of the VM's process"),
    "balloon.usable": ("ovtui_vm_memory_usable_bytes", "Memory the guest can use (guest view)"),
    "balloon.available": ("ovtui_vm_memory_available_bytes", "Memory the guest sees in total"),
    "balloon.unused": ("ovtui_vm_memory_unused_bytes", "Memory the guest leaves unused"),
}
CPU = {
    "cpu.time": ("ovtui_vm_cpu_seconds", "CPU time of the VM"),
    "cpu.user": ("ovtui_vm_cpu_user_seconds", "User CPU time of the VM"),
    "cpu.system": ("ovtui_vm_cpu_system_seconds", "System CPU time of the VM"),
}
VCPU = {
    "wait": ("ovtui_vm_vcpu_wait_seconds", "Time the VM's vCPUs waited on I/O, all vCPUs"),
    "delay": ("ovtui_vm_vcpu_delay_seconds", "Time runnable vCPUs waited for a host CPU (steal)"),
}
BLOCK = {  # stat -> (family, help, scale)
    "rd.bytes": ("ovtui_vm_block_read_bytes", "Bytes read from the disk", 1.0),
    "wr.bytes": ("ovtui_vm_block_write_bytes", "Bytes written to the disk", 1.0),
    "rd.reqs": ("ovtui_vm_block_read_requests", "Read requests", 1.0),
    "wr.reqs": ("ovtui_vm_block_write_requests", "Write requests", 1.0),
    "rd.times": ("ovtui_vm_block_read_seconds", "Time spent reading", 1e-9),
    "wr.times": ("ovtui_vm_block_write_seconds", "Time spent writing", 1e-9),
}
BLOCK_SIZE = {
    "capacity": ("ovtui_vm_block_capacity_bytes", "Logical size of the disk"),
    "allocation": ("ovtui_vm_block_allocation_bytes", "Highest written offset of the disk"),
}
NET = {
    "rx.bytes": ("ovtui_vm_network_receive_bytes", "Bytes received"),
    "tx.bytes": ("ovtui_vm_network_transmit_bytes", "Bytes transmitted"),
    "rx.pkts": ("ovtui_vm_network_receive_packets", "Packets received"),
    "tx.pkts": ("ovtui_vm_network_transmit_packets", "Packets transmitted"),
    "rx.errs": ("ovtui_vm_network_receive_errors", "Receive errors"),
    "tx.errs": ("ovtui_vm_network_transmit_errors", "Transmit errors"),
    "rx.drop": ("ovtui_vm_network_receive_drops", "Received packets dropped"),
    "tx.drop": ("ovtui_vm_network_transmit_drops", "Transmitted packets dropped"),
}
#: Families read from libvirt's bulk statistics: absent where the driver lacks them.
MEASURED_ONLY = frozenset(
    [n for n, _ in BALLOON.values()]
    + [f"{n}_total" for n, _ in (*CPU.values(), *VCPU.values())]
    + [f"{n}_total" for n, _, _ in BLOCK.values()]
    + [n for n, _ in BLOCK_SIZE.values()]
    + [f"{n}_total" for n, _ in NET.values()]
)
_RANK = {VmState.RUNNING: 0, VmState.BLOCKED: 1}
_uuid, _host = attrgetter("uuid"), attrgetter("host")


def _rank(vm: VM) -> int:
    return _RANK.get(vm.state, 2 if vm.active else 3)


def placed(snapshot: Snapshot) -> dict[str, VM]:
    """One VM per UUID: where it is active (running first) when a migration lists it twice."""
    chosen: dict[str, VM] = {}
    for vm in snapshot.vms:
        other = chosen.get(vm.uuid)
        if other is None or _rank(vm) < _rank(other):
            chosen[vm.uuid] = vm
    return chosen


VMS, VMS_STATS, VMS_LOAD = (
    frozenset({"vms"}),
    frozenset({"vms", "stats"}),
    frozenset({"vms", "vm_load"}),
)
Lines = Callable[[HostInputs], Iterator[str]]


def _info(i: HostInputs) -> Iterator[str]:
    ids = i.uuid_labels
    for vm in i.vms:
        yield (
            f'ovtui_vm_info{{{ids[vm.uuid]},name="{escape(vm.name)}",host="{escape(vm.host)}",'
            f'cluster="{escape(vm.cluster)}",datacenter="{escape(vm.datacenter)}",'
            f'load_source="{vm.load_source}"}} 1.0\n'
        )


def _state(i: HostInputs) -> Iterator[str]:
    stats, ids = i.domains, i.uuid_labels
    for vm in i.vms:
        d = stats.get(vm.uuid)
        code = d.values.get("state.state") if d is not None else None
        state = vm_state(code) if code is not None else vm.state  # the fresher one wins
        yield f'ovtui_vm_state{{{ids[vm.uuid]},state="{state}"}} 1.0\n'


def _vm_gauge(name: str, get: Callable[[VM], float | None]) -> Lines:
    def lines(i: HostInputs) -> Iterator[str]:
        ids = i.uuid_labels
        for vm in i.vms:
            v = get(vm)
            if v is not None:
                yield f"{name}{{{ids[vm.uuid]}}} {value(v)}\n"

    return lines


SNAPSHOT_FAMILIES = (
    BlockFamily(
        "ovtui_vm_info",
        "gauge",
        "VM facts to join on `uuid`; load_source=synthetic marks demo load, not measurements",
        VMS,
        _info,
    ),
    BlockFamily("ovtui_vm_state", "gauge", "The VM's current state (value 1)", VMS_STATS, _state),
    BlockFamily(
        "ovtui_vm_vcpus",
        "gauge",
        "vCPUs of the VM",
        VMS,
        _vm_gauge("ovtui_vm_vcpus", lambda v: None if v.config_pending else v.vcpus),
    ),
    BlockFamily(
        "ovtui_vm_memory_configured_bytes",
        "gauge",
        "Memory configured for the VM (maximum)",
        VMS,
        _vm_gauge(  # absent while the domain XML is being read (config_pending): not known
            "ovtui_vm_memory_configured_bytes",
            lambda v: None if v.config_pending else v.memory_mib * KIB * KIB,
        ),
    ),
    BlockFamily(
        "ovtui_vm_cpu_utilisation_ratio",
        "gauge",
        "Share of the VM's vCPUs busy, 0-1 (synthetic where load_source=synthetic)",
        VMS_LOAD,
        _vm_gauge("ovtui_vm_cpu_utilisation_ratio", lambda v: v.cpu_usage),
    ),
)


def _value_of(name: str, key: str, convert: Callable[[float], float]) -> Lines:
    def lines(i: HostInputs) -> Iterator[str]:
        if key not in i.stat_keys:
            return
        ids = i.uuid_labels
        for uuid, d in i.domains.items():
            v = d.values.get(key)
            if v is not None:
                yield f"{name}{{{ids[uuid]}}} {value(convert(v))}\n"

    return lines


def _vcpu(name: str, what: str) -> Lines:
    def lines(i: HostInputs) -> Iterator[str]:
        if "vcpu.maximum" not in i.stat_keys and "vcpu.current" not in i.stat_keys:
            return
        ids = i.uuid_labels
        for uuid, d in i.domains.items():
            v = d.values
            count = int(v.get("vcpu.maximum", v.get("vcpu.current", 0)))
            keys = [f"vcpu.{n}.{what}" for n in range(count)]
            present = [v[k] for k in keys if k in v]
            if present:
                yield f"{name}{{{ids[uuid]}}} {value(sum(present) / 1e9)}\n"

    return lines


def _device(name: str, group: str, label: str, key: str, scale: float) -> Lines:
    count_key = f"{group}.count"

    def lines(i: HostInputs) -> Iterator[str]:
        if count_key not in i.stat_keys:
            return
        ids = i.uuid_labels
        for uuid, d in i.domains.items():
            v: Mapping[str, Any] = d.values
            for n in range(int(v.get(count_key, 0))):
                prefix = f"{group}.{n}."
                dev = v.get(prefix + "name")
                found = v.get(prefix + key) if dev is not None else None
                if found is not None:
                    dev_label = f'{label}="{escape(str(dev))}"'
                    yield f"{name}{{{ids[uuid]},{dev_label}}} {value(found * scale)}\n"

    return lines


def _stats_families() -> Iterator[BlockFamily]:
    for key, (name, doc) in CPU.items():
        yield BlockFamily(
            f"{name}_total",
            "counter",
            doc,
            VMS_STATS,
            _value_of(f"{name}_total", key, lambda v: v / 1e9),
        )
    for key, (name, doc) in BALLOON.items():
        yield BlockFamily(name, "gauge", doc, VMS_STATS, _value_of(name, key, lambda v: v * KIB))
    for what, (name, doc) in VCPU.items():
        yield BlockFamily(f"{name}_total", "counter", doc, VMS_STATS, _vcpu(f"{name}_total", what))
    for key, (name, doc, scale) in BLOCK.items():
        total = f"{name}_total"
        yield BlockFamily(
            total, "counter", doc, VMS_STATS, _device(total, "block", "device", key, scale)
        )
    for key, (name, doc) in BLOCK_SIZE.items():
        yield BlockFamily(name, "gauge", doc, VMS_STATS, _device(name, "block", "device", key, 1.0))
    for key, (name, doc) in NET.items():
        total = f"{name}_total"
        yield BlockFamily(
            total, "counter", doc, VMS_STATS, _device(total, "net", "interface", key, 1.0)
        )


STATS_FAMILIES = tuple(_stats_families())


def vm_inputs(snapshot: Snapshot) -> tuple[dict[str, tuple[VM, ...]], dict[str, int]]:
    """Per host: the VMs exported from it (each UUID once) and the VMs the snapshot lists."""
    vms = snapshot.vms
    if len(set(map(_uuid, vms))) < len(vms):  # a VM listed twice (mid-migration)
        return _vm_inputs_choosing(snapshot)
    # Every UUID once: each host exports the VMs listed on it, in the snapshot's order. The
    # snapshot lists each host's VMs together, so grouping its runs (C speed) costs ~2 ms at
    # 20 000 VMs where a loop over the VMs cost ~30 ms of every scrape (cProfile, 500 hosts).
    runs: dict[str, list[tuple[VM, ...]]] = {}
    for name, run in groupby(vms, key=_host):
        runs.setdefault(name, []).append(tuple(run))
    exported = {n: r[0] if len(r) == 1 else tuple(chain.from_iterable(r)) for n, r in runs.items()}
    return exported, {n: len(v) for n, v in exported.items()}


def _vm_inputs_choosing(snapshot: Snapshot) -> tuple[dict[str, tuple[VM, ...]], dict[str, int]]:
    exported: dict[str, list[VM]] = {}
    for vm in placed(snapshot).values():
        exported.setdefault(vm.host, []).append(vm)
    defined: dict[str, int] = {}
    for vm in snapshot.vms:
        defined[vm.host] = defined.get(vm.host, 0) + 1
    return {n: tuple(v) for n, v in exported.items()}, defined
