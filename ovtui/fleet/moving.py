"""VMs the engine is moving, laid over what the hosts report, so each is listed exactly once.

While a VM moves, the two hosts' readings do not line up: a cold move defines the VM on the
target before undefining it on the source, a live one shows it on both, and each host is read on
its own schedule, so a snapshot could hold the VM twice or not at all. The engine knows it is
moving the VM, so that knowledge wins: one copy, state `migrating`, on the source, naming both
hosts, from the start of the move until both hosts have been read after its end (or a host that
could not be read has stopped answering: its VMs are then shown as unknown, as for any lost host).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ovtui.model import VM, VmState


@dataclass(slots=True)
class Moving:
    vm: VM  # as it was when the move began
    target: str
    mode: str  # live | cold | offline
    # Set when the move has ended: per host, the number of reads begun by then. The overlay
    # stays until each host has a reading begun later (or has stopped answering).
    reads_at_end: dict[str, int] | None = field(default=None)

    @property
    def hosts(self) -> tuple[str, str]:
        return self.vm.host, self.target


def settled(move: Moving, read_of_stored: Mapping[str, int], up: Mapping[str, bool]) -> bool:
    """The move has ended and both hosts' stored readings began after that (or a host is down)."""
    if move.reads_at_end is None:
        return False
    return all(
        read_of_stored.get(h, 0) > n or not up.get(h, False) for h, n in move.reads_at_end.items()
    )


def as_migrating(move: Moving, seen: VM | None) -> VM:
    """The one copy shown: the freshest reading of it (load, memory) in state migrating."""
    base = seen or move.vm
    return dataclasses.replace(
        base,
        host=move.vm.host,
        cluster=move.vm.cluster,
        datacenter=move.vm.datacenter,
        state=VmState.MIGRATING,
        migration_source=move.vm.host,
        migration_target=move.target,
        migration_mode=move.mode,
    )


def overlay(vms: Iterable[VM], moving: Mapping[str, Moving]) -> tuple[VM, ...]:
    """`vms` with every copy of a moving VM replaced by one, where its first copy was."""
    if not moving:
        return tuple(vms)
    out: list[VM | None] = []
    slot: dict[str, int] = {}  # uuid -> index of its one copy in out
    seen: dict[str, VM] = {}  # uuid -> the copy read on the source (else on the target)
    for vm in vms:
        move = moving.get(vm.uuid)
        if move is None:
            out.append(vm)
            continue
        if vm.host == move.vm.host or vm.uuid not in seen:
            seen[vm.uuid] = vm
        if vm.uuid not in slot:
            slot[vm.uuid] = len(out)
            out.append(None)
    for uuid, move in moving.items():
        shown = as_migrating(move, seen.get(uuid))
        if uuid in slot:
            out[slot[uuid]] = shown
        else:
            out.append(shown)  # on neither host right now (between undefine and define)
    return tuple(vm for vm in out if vm is not None)
