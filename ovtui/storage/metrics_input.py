"""What the storage collector exports, built from the engine's cached readings (no libvirt)."""

from __future__ import annotations

from collectors.storage_metrics import DiskSample, PoolSample, StorageInput
from ovtui.storage.disks import DiskService
from ovtui.storage.moves import MoveService
from ovtui.storage.service import StorageService


def storage_input(storage: StorageService, disks: DiskService, moves: MoveService) -> StorageInput:
    """Call on the engine's loop: the readings and the snapshot are the loop's."""
    pools = []
    for sd in storage.domains():
        for host in storage.hosts(sd.name):
            r = storage.reading(sd.name, host)
            pools.append(
                PoolSample(sd.name, host, sd.type, r.state, r.capacity, r.allocation, r.available)
            )
    samples = []
    for row in disks.listing():
        users = row["vms"] or [{"vm": ""}]
        samples.append(
            DiskSample(
                row["domain"],
                row["name"],
                users[0]["vm"],
                row["capacity_bytes"],
                row["allocation_bytes"],
            )
        )
    f = moves.figures
    return StorageInput(pools, samples, f.started, f.succeeded, f.failed, tuple(f.seconds))
