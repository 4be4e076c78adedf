"""A VM's libvirt handle that crosses to the event loop but is freed on its host's threads.

A poll hands the fleet the handles of the VMs whose domain XML is still to be read, and the
config fill hands them back to a worker thread. A libvirt object's last reference frees it in C
with the GIL let go; on the event loop that costs a GIL hand-over each time, which with hundreds
of busy host threads waits a switch interval or more (profiled at 500 hosts x 40 VMs: ~30% of the
loop's start-up went to freeing these 20 000 handles, in the polls that replaced older readings
and in the fills that dropped the VMs they had read). So the loop only ever holds this wrapper:
the XML read lets go of the handle on the worker thread (`release`), and a poll keeps the
wrapper of the reading before it instead of a new one (`usable_on`), dropping its own fresh
handle on the worker too.
"""

from __future__ import annotations

import libvirt


class DomainHandle:
    __slots__ = ("_dom",)

    def __init__(self, dom: libvirt.virDomain) -> None:
        self._dom: libvirt.virDomain | None = dom

    @property
    def dom(self) -> libvirt.virDomain | None:
        """The handle, or None once released (its XML was read)."""
        return self._dom

    def usable_on(self, conn: libvirt.virConnect) -> bool:
        """Not released, and of this connection (connect() asks libvirt nothing)."""
        dom = self._dom
        return dom is not None and dom.connect() is conn

    def release(self) -> None:
        """Drops the wrapper's reference; call it on a worker thread, which then frees the
        handle with its own last reference (a caller that still holds one frees it later)."""
        self._dom = None
