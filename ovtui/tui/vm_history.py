"""A short client-side memory of each VM's CPU and memory, fed by the polls, for the VM detail.

Like history.py for hosts: only what this dashboard session has seen (the engine's real series
are in Prometheus), SAMPLES per VM, and a VM that leaves the fleet is forgotten at the next poll.
A fleet can hold 20 000 VMs, so samples are kept as per-mille integers in arrays (2 bytes each,
about 250 bytes per VM when full) rather than deques of floats.

CPU is the share of the VM's vCPUs busy (SYNTHETIC on demo hosts); memory is what libvirt has
given the guest now (balloon, virsh "Used memory") over its maximum, and 0 while it is not active.
"""

from __future__ import annotations

from array import array

from ovtui.tui.rows import FleetData, VmRow

SAMPLES = 60
_SCALE = 1000


def memory_fraction(vm: VmRow) -> float | None:
    if not vm.active:
        return 0.0
    if not vm.memory_mib or not vm.memory_current_mib:
        return None  # not reported (an older engine): no sample rather than a false zero
    return vm.memory_current_mib / vm.memory_mib


def _add(series: array[int], value: float | None, limit: int) -> None:
    if value is None:
        return
    series.append(round(max(0.0, min(1.0, value)) * _SCALE))
    if len(series) > limit:
        del series[0]


class VmHistory:
    def __init__(self, samples: int = SAMPLES) -> None:
        self.samples = samples
        self._series: dict[str, tuple[array[int], array[int]]] = {}

    def __len__(self) -> int:
        return len(self._series)

    def record(self, fleet: FleetData) -> None:
        old, new = self._series, {}
        for vm in fleet.vms:
            if vm.uuid in new:
                continue  # listed twice while it migrates: one sample per poll
            pair = old.get(vm.uuid) or (array("H"), array("H"))
            _add(pair[0], vm.cpu_usage, self.samples)
            _add(pair[1], memory_fraction(vm), self.samples)
            new[vm.uuid] = pair
        self._series = new  # VMs that vanished are dropped here

    def cpu(self, uuid: str) -> list[float]:
        pair = self._series.get(uuid)
        return [v / _SCALE for v in pair[0]] if pair else []

    def memory(self, uuid: str) -> list[float]:
        pair = self._series.get(uuid)
        return [v / _SCALE for v in pair[1]] if pair else []
