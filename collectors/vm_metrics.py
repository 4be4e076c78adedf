"""VM metric families, built fresh on every scrape: a deleted VM simply is not in the next one.

`ovtui_vm_info` is the only VM series with name, host, cluster and datacenter; every other VM
series carries `uuid` (plus `device` or `interface` for block and network counters), so a
migration or a rename changes one info series instead of every series of the VM.

While a VM migrates it can be listed on two hosts at once; each UUID is exported once, from the
host where it is active (running first). State, vCPUs, configured memory and the utilisation gauge
come from the snapshot (and state from the fresher bulk statistics when there are some);
CPU seconds, balloon, vCPU wait/delay, block and interface counters come from libvirt's bulk
statistics and are absent where the driver has none (the test driver reports state only).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from collectors.bulk_stats import DomainStats
from collectors.stats_cache import HostScrape
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


def _counter(name: str, doc: str, labels: tuple[str, ...] = ("uuid",)) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=list(labels))


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ("uuid",)) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def vm_families(snapshot: Snapshot, scrapes: Mapping[str, HostScrape]) -> Iterator[Metric]:
    vms = placed(snapshot)
    stats: dict[str, DomainStats] = {}
    for host, scrape in scrapes.items():
        if scrape.up and scrape.stats is not None:
            for d in scrape.stats.domains:
                vm = vms.get(d.uuid)
                if vm is not None and vm.host == host:
                    stats[d.uuid] = d
    yield from _snapshot_families(vms, stats)
    yield from _stats_families(stats)


def _snapshot_families(vms: dict[str, VM], stats: dict[str, DomainStats]) -> Iterator[Metric]:
    info = _gauge(
        "ovtui_vm_info",
        "VM facts to join on `uuid`; load_source=synthetic marks demo load, not measurements",
        ("uuid", "name", "host", "cluster", "datacenter", "load_source"),
    )
    state = _gauge("ovtui_vm_state", "The VM's current state (value 1)", ("uuid", "state"))
    vcpus = _gauge("ovtui_vm_vcpus", "vCPUs of the VM")
    memory = _gauge("ovtui_vm_memory_configured_bytes", "Memory configured for the VM (maximum)")
    util = _gauge(
        "ovtui_vm_cpu_utilisation_ratio",
        "Share of the VM's vCPUs busy, 0-1 (synthetic where load_source=synthetic)",
    )
    for uuid, vm in vms.items():
        info.add_metric(
            [uuid, vm.name, vm.host, vm.cluster, vm.datacenter, vm.load_source.value], 1
        )
        d = stats.get(uuid)
        code = d.values.get("state.state") if d is not None else None
        state.add_metric([uuid, (vm_state(code) if code is not None else vm.state).value], 1)
        vcpus.add_metric([uuid], vm.vcpus)
        memory.add_metric([uuid], vm.memory_mib * KIB * KIB)
        if vm.cpu_usage is not None:
            util.add_metric([uuid], vm.cpu_usage)
    yield from (info, state, vcpus, memory, util)


def _stats_families(stats: dict[str, DomainStats]) -> Iterator[Metric]:
    cpu = {k: _counter(n, d) for k, (n, d) in CPU.items()}
    balloon = {k: _gauge(n, d) for k, (n, d) in BALLOON.items()}
    vcpu = {k: _counter(n, d) for k, (n, d) in VCPU.items()}
    block = {k: _counter(n, d, ("uuid", "device")) for k, (n, d, _s) in BLOCK.items()}
    size = {k: _gauge(n, d, ("uuid", "device")) for k, (n, d) in BLOCK_SIZE.items()}
    net = {k: _counter(n, d, ("uuid", "interface")) for k, (n, d) in NET.items()}
    for uuid, d in stats.items():
        v = d.values
        for key, fam in cpu.items():
            if key in v:
                fam.add_metric([uuid], v[key] / 1e9)
        for key, g in balloon.items():
            if key in v:
                g.add_metric([uuid], v[key] * KIB)
        _vcpu(uuid, v, vcpu)
        _devices(uuid, v, "block", block, BLOCK, size)
        _devices(uuid, v, "net", net, NET, {})
    yield from (*cpu.values(), *balloon.values(), *vcpu.values())
    yield from (*block.values(), *size.values(), *net.values())


def _vcpu(uuid: str, v: Mapping[str, Any], fams: dict[str, CounterMetricFamily]) -> None:
    count = int(v.get("vcpu.maximum", v.get("vcpu.current", 0)))
    for what, fam in fams.items():
        keys = [f"vcpu.{i}.{what}" for i in range(count)]
        present = [v[k] for k in keys if k in v]
        if present:
            fam.add_metric([uuid], sum(present) / 1e9)


def _devices(
    uuid: str,
    v: Mapping[str, Any],
    group: str,
    counters: dict[str, CounterMetricFamily],
    spec: Mapping[str, tuple[Any, ...]],
    sizes: dict[str, GaugeMetricFamily],
) -> None:
    for i in range(int(v.get(f"{group}.count", 0))):
        prefix = f"{group}.{i}."
        dev = v.get(prefix + "name")
        if dev is None:
            continue
        for key, fam in counters.items():
            value = v.get(prefix + key)
            if value is not None:
                scale = spec[key][2] if len(spec[key]) > 2 else 1.0
                fam.add_metric([uuid, str(dev)], value * scale)
        for key, g in sizes.items():
            value = v.get(prefix + key)
            if value is not None:
                g.add_metric([uuid, str(dev)], value)
