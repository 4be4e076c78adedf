"""Actions refused while a disk move of their VM, or of their disk, is under way.

A shut-off VM's disk is copied offline (ovtui/storage/moves.py, also through a paused helper
domain onto an iSCSI LUN): started meanwhile, the guest would write to a disk being copied and
then have the copy switched under it. Migrated, deleted, cloned, snapshotted or its disks edited,
the move's last stages would act on a VM that is no longer the one copied (a live move's too).
Engine.perform asks here before every action, whoever asks (API, oVirt API, policies, HA), so
the refusal is audited like any other failed action. The moves are read from the store: one an
earlier engine left (staged, resumed at start) holds its VM as one under way does.
An HA restart waits for a copy of a shut-off VM's disk as a start does (retried like any failed
restart), but not for a live move: the VM died with its host, and that move is undone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ovtui.fleet.errors import FleetError
from ovtui.storage.disks import DiskService
from ovtui.storage.move_model import DiskMove

# Named by the uuid in their params.
VM_ACTIONS = frozenset(
    {
        "vm.start",
        "vm.migrate",
        "vm.delete",
        "vm.edit",
        "vm.clone",
        "template.create",
        "vm.snapshot",
        "vm.snapshot_revert",
        "vm.snapshot_delete",
        "disk.attach",
        "disk.detach",
        "disk.move",
    }
)
HA_RESTART = "vm.ha_restart"  # refused by a copy of a shut-off VM's disk only
# Named by their target, disk/DOMAIN/DISK.
DISK_ACTIONS = frozenset({"disk.delete", "disk.grow"})


def _why(action: str, what: str, m: DiskMove) -> str:
    return (
        f"{action} {what} refused: disk move {m.id} of {m.vm}'s {m.target_dev} from "
        f"{m.source.domain} to {m.dest.domain} is in flight (stage {m.stage}); wait for it to "
        f"finish (GET /api/v1/disk-moves/{m.id} shows its progress)"
    )


def refusal(
    moves: Callable[[], Iterable[DiskMove]],
    disks: DiskService,
    action: str,
    target: str,
    params: dict[str, Any],
) -> FleetError | None:
    """Why `action` must wait for a disk move (None: it need not). `moves` is only read (from
    the store) for the actions it can concern."""
    if action not in VM_ACTIONS and action not in DISK_ACTIONS and action != HA_RESTART:
        return None
    holding = [m for m in moves() if m.holds_vm]
    if not holding:
        return None
    if action in VM_ACTIONS or action == HA_RESTART:
        uuid = params.get("uuid")
        live_too = action != HA_RESTART
        m = next((m for m in holding if m.vm_uuid == uuid and (live_too or not m.live)), None)
        if m is None:
            return None
        return FleetError(_why(action, m.vm, m), kind="conflict", host=m.host, vm=m.vm)
    kind, _, rest = target.partition("/")
    domain, _, disk = rest.partition("/")
    if kind != "disk" or not disk:
        return None
    try:
        _sd, vol, _rec = disks.find(domain, disk)
    except FleetError:
        return None  # the action says what is wrong with its disk
    for m in holding:
        if any(e.domain == domain and e.volume == vol.name for e in (m.source, m.dest)):
            return FleetError(_why(action, f"{domain}/{disk}", m), kind="conflict", vm=m.vm)
    return None
