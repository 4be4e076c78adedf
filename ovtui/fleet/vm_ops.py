"""VM power operations as blocking functions of a connection (run on the host's threads)."""

from __future__ import annotations

from collections.abc import Callable

import libvirt

from ovtui.fleet.reading import vm_state
from ovtui.model import VmState

Op = Callable[[libvirt.virConnect], None]

_CALLS: dict[str, Callable[[libvirt.virDomain], object]] = {
    "start": lambda d: d.create(),
    "shutdown": lambda d: d.shutdown(),  # a request to the guest; completion is polled for
    "poweroff": lambda d: d.destroy(),
    "reboot": lambda d: d.reboot(0),
    "suspend": lambda d: d.suspend(),
    "resume": lambda d: d.resume(),
}
VM_ACTIONS = tuple(_CALLS)


def action(name: str, uuid: str) -> Op:
    call = _CALLS[name]

    def run(conn: libvirt.virConnect) -> None:
        call(conn.lookupByUUIDString(uuid))

    return run


def state_of(uuid: str) -> Callable[[libvirt.virConnect], VmState]:
    def run(conn: libvirt.virConnect) -> VmState:
        return vm_state(conn.lookupByUUIDString(uuid).info()[0])

    return run
