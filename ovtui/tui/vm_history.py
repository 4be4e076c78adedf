"""A short client-side memory of each VM's CPU and memory, fed by the polls, for the VM detail.

Like history.py for hosts: only what this dashboard session has seen (the engine's real series
are in Prometheus), the last SAMPLES reads of the VM list per VM, and a VM that leaves the fleet
is forgotten at the next read. A fleet can hold 20 000 VMs and a read names only the VMs that
changed (the others keep their row objects), so a VM's series is kept as runs: a value and the
read it started at, appended only when its row is a new object. A read costs the VMs it
changed, not the fleet (a sample per VM per read was ~0.1 s of CPU at 20 000 VMs). Values are
per-mille integers in arrays (2 bytes each).

CPU is the share of the VM's vCPUs busy (SYNTHETIC on demo hosts); memory is what libvirt has
given the guest now (balloon, virsh "Used memory") over its maximum, and 0 while it is not active.
"""

from __future__ import annotations

from array import array

from ovtui.tui.rows import FleetData, VmRow

SAMPLES = 60
_SCALE = 1000
_NONE = 0xFFFF  # no figure at that read: no sample (a gap, never a false zero)


def memory_fraction(vm: VmRow) -> float | None:
    if not vm.active:
        return 0.0
    if not vm.memory_mib or not vm.memory_current_mib:
        return None  # not reported (an older engine): no sample rather than a false zero
    return vm.memory_current_mib / vm.memory_mib


def _scaled(value: float | None) -> int:
    return _NONE if value is None else round(max(0.0, min(1.0, value)) * _SCALE)


class _Runs:
    """One VM's series: run i holds cpu[i], memory[i] from read at[i] until the next run."""

    __slots__ = ("at", "cpu", "memory")

    def __init__(self) -> None:
        self.at, self.cpu, self.memory = array("I"), array("H"), array("H")

    def add(self, read: int, vm: VmRow, first: int) -> None:
        self.at.append(read)
        self.cpu.append(_scaled(vm.cpu_usage))
        self.memory.append(_scaled(memory_fraction(vm)))
        drop = 0  # runs that ended before the window's first read
        while drop + 1 < len(self.at) and self.at[drop + 1] <= first:
            drop += 1
        if drop:
            del self.at[:drop], self.cpu[:drop], self.memory[:drop]

    def values(self, series: array[int], first: int, last: int) -> list[float]:
        out: list[float] = []
        at = self.at
        for i, value in enumerate(series):
            begin = max(at[i], first)
            end = at[i + 1] - 1 if i + 1 < len(at) else last
            if value != _NONE and end >= begin:
                out.extend([value / _SCALE] * (end - begin + 1))
        return out


class VmHistory:
    def __init__(self, samples: int = SAMPLES) -> None:
        self.samples = samples
        self.reads = 0  # reads of the VM list recorded
        self.added = 0  # samples appended (tests count them)
        self._series: dict[str, _Runs] = {}
        self._rows: dict[str, VmRow] = {}  # UUID -> its row at the last read

    def __len__(self) -> int:
        return len(self._series)

    def record(self, fleet: FleetData) -> None:
        self.reads += 1
        first = self.reads - self.samples + 1
        rows = {v.uuid: v for v in reversed(fleet.vms)}  # listed twice while it migrates: once
        old, series = self._rows, self._series
        for gone in old.keys() - rows.keys():
            del series[gone]
        for uuid, vm in rows.items():
            if old.get(uuid) is not vm:  # a new row object: what it shows may have changed
                runs = series.get(uuid)
                if runs is None:
                    runs = series[uuid] = _Runs()
                runs.add(self.reads, vm, first)
                self.added += 1
        self._rows = rows

    def cpu(self, uuid: str) -> list[float]:
        return self._values(uuid, "cpu")

    def memory(self, uuid: str) -> list[float]:
        return self._values(uuid, "memory")

    def _values(self, uuid: str, which: str) -> list[float]:
        runs = self._series.get(uuid)
        if runs is None:
            return []
        first = max(1, self.reads - self.samples + 1)
        return runs.values(getattr(runs, which), first, self.reads)
