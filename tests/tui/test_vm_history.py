"""The per-VM history behind the VM detail's trend lines: bounded, and forgets vanished VMs."""

from __future__ import annotations

from typing import Any

import pytest

from ovtui.tui.rows import FleetData, VmRow
from ovtui.tui.vm_devices import device_lines
from ovtui.tui.vm_history import VmHistory


def _vm(uuid: str, cpu: float | None, state: str = "running", now: int = 1024) -> VmRow:
    return VmRow.from_json(
        {
            "uuid": uuid,
            "name": uuid,
            "state": state,
            "cpu_usage": cpu,
            "memory_mib": 2048,
            "memory_current_mib": now,
        }
    )


def _poll(*vms: VmRow) -> FleetData:
    return FleetData(vms=vms)


def test_samples_are_bounded_and_in_order() -> None:
    history = VmHistory(samples=3)
    for i in range(5):
        history.record(_poll(_vm("a", i / 10)))
    assert history.cpu("a") == pytest.approx([0.2, 0.3, 0.4])
    assert history.memory("a") == [0.5, 0.5, 0.5]  # 1 GiB given of 2 GiB


def test_a_vanished_vm_is_forgotten_and_a_new_one_starts_empty() -> None:
    history = VmHistory()
    history.record(_poll(_vm("a", 0.5), _vm("b", 0.25)))
    history.record(_poll(_vm("b", 0.75)))
    assert len(history) == 1 and history.cpu("a") == []
    assert history.cpu("b") == [0.25, 0.75]
    history.record(_poll(_vm("a", 1.0), _vm("b", 0.0)))
    assert history.cpu("a") == [1.0]


def test_one_sample_per_poll_and_honest_gaps() -> None:
    history = VmHistory()
    # Listed twice while it migrates: counted once. No CPU figure yet: no CPU sample.
    history.record(_poll(_vm("a", None), _vm("a", None)))
    assert history.cpu("a") == [] and history.memory("a") == [0.5]
    history.record(_poll(_vm("a", 0.0, state="shutoff")))
    assert history.cpu("a") == [0.0] and history.memory("a") == [0.5, 0.0]  # holds nothing
    history.record(_poll(_vm("a", 0.1, now=0)))  # an engine that does not report it
    assert history.memory("a") == [0.5, 0.0]


DISK = {"target": "vda", "device": "disk", "bus": "virtio", "source_type": "file", "source": "/i"}
CDROM = {"target": "sdb", "device": "cdrom", "bus": "sata", "source_type": "", "source": ""}
NIC = {"mac": "52:54:00:00:00:01", "type": "bridge", "source": "br0", "model": "virtio"}


@pytest.mark.parametrize(
    ("detail", "lines"),
    [
        (None, ["devices loading…"]),
        (
            {"disks": None, "nics": None},
            ["devices not read yet (the engine reads them with the VM's next poll)"],
        ),
        (
            {"disks": [DISK, CDROM], "nics": [{**NIC, "target": "vnet7"}]},
            [
                "disk    vda  virtio  disk  file /i",
                "disk    sdb  sata  cdrom  (empty)",
                "nic     52:54:00:00:00:01  virtio  bridge br0  → vnet7",
            ],
        ),
        (
            {"disks": [], "nics": [{**NIC, "target": ""}]},
            ["disk    none", "nic     52:54:00:00:00:01  virtio  bridge br0"],
        ),
    ],
)
def test_device_lines(detail: dict[str, Any] | None, lines: list[str]) -> None:
    assert device_lines(detail) == lines


def test_a_read_costs_the_vms_it_changed_and_unchanged_ones_still_sample_each_read() -> None:
    # The poller keeps the row object of a VM the engine did not name: no new sample to make.
    history = VmHistory(samples=4)
    fleet = [_vm(f"v{i}", 0.5) for i in range(20000)]
    history.record(_poll(*fleet))
    assert history.added == 20000
    for step in range(5):
        fleet[7] = _vm("v7", step / 10)  # one VM changed, as in a delta answer
        history.record(_poll(*fleet))
    assert history.added == 20005  # one sample a read, not 20 000
    assert history.cpu("v9") == [0.5] * 4 and history.memory("v9") == [0.5] * 4
    assert history.cpu("v7") == pytest.approx([0.1, 0.2, 0.3, 0.4])
