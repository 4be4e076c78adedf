"""What a migration left behind when the engine that drove it died (kill -9, takeover).

Migrations are managed: the engine's process drives both connections (begin, prepare,
perform, finish, confirm). When that process dies mid-way, libvirt finishes or unwinds the job
on its own: the source's job runs to its end, the destination drops an incoming VM whose
finish never came, and the source may keep a VM paused by the migration waiting for a confirm
that will not come. `settle` waits for that to end and then tidies up so that the VM runs in
exactly one place: it moved (running on the target; a paused leftover on the source is
destroyed and its definition removed), or it stayed (a copy paused by the migration is resumed
on the source). It never starts a migration itself: the caller decides whether to run the step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import libvirt

from ovtui.fleet.errors import FleetError
from ovtui.fleet.host_link import HostLink

# How a VM is on one host: "absent", "inactive", "job" (a job still runs), "paused_migration",
# "paused", "running".
Where = str
_MIGRATION_PAUSES = (
    libvirt.VIR_DOMAIN_PAUSED_MIGRATION,
    libvirt.VIR_DOMAIN_PAUSED_POSTCOPY,
    libvirt.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED,
)


def look(uuid: str) -> Callable[[libvirt.virConnect], Where]:
    def run(conn: libvirt.virConnect) -> Where:
        try:
            dom = conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError:
            return "absent"
        if not dom.isActive():
            return "inactive"
        try:
            if dom.jobInfo()[0] != libvirt.VIR_DOMAIN_JOB_NONE:
                return "job"
        except libvirt.libvirtError:
            pass  # drivers without job info (the test driver) run no migration jobs
        state, reason = dom.state()
        if state == libvirt.VIR_DOMAIN_PAUSED:
            return "paused_migration" if reason in _MIGRATION_PAUSES else "paused"
        return "running"

    return run


def _resume(uuid: str) -> Callable[[libvirt.virConnect], None]:
    def run(conn: libvirt.virConnect) -> None:
        conn.lookupByUUIDString(uuid).resume()

    return run


def _drop(uuid: str) -> Callable[[libvirt.virConnect], None]:
    """The source's leftover of a VM that now runs on the target: stopped, then undefined."""

    def run(conn: libvirt.virConnect) -> None:
        dom = conn.lookupByUUIDString(uuid)
        if dom.isActive():
            dom.destroy()
        if dom.isPersistent():
            dom.undefine()

    return run


async def settle(
    source: HostLink, target: HostLink, uuid: str, name: str, timeout: float
) -> tuple[str, str]:
    """("moved" | "stayed", what was done). Raises FleetError when it does not settle in time
    or the VM is in neither place."""
    deadline = time.monotonic() + timeout
    while True:
        src = await source.call(look(uuid), action="look at a leftover migration of", vm=name)
        dst = await target.call(look(uuid), action="look at a leftover migration of", vm=name)
        if dst == "running" and src not in ("job", "running"):
            if src in ("paused_migration", "paused", "inactive"):
                await source.call(_drop(uuid), action="remove the leftover of", vm=name)
                return (
                    "moved",
                    f"runs on {target.name}; its paused leftover on {source.name} removed",
                )
            return "moved", f"runs on {target.name}"
        waiting = src == "job" or dst in ("job", "paused_migration", "paused")
        if not waiting:
            if src == "paused_migration":
                await source.call(_resume(uuid), action="resume after a lost migration", vm=name)
                return "stayed", f"was left paused by the lost migration on {source.name}: resumed"
            if src in ("running", "paused") or (src == "inactive" and dst == "absent"):
                return "stayed", f"still on {source.name} ({src})"
            if src == "absent" and dst == "inactive":
                return "moved", f"defined on {target.name}, shut off"
            raise FleetError(f"{name} is {src} on {source.name} and {dst} on {target.name}: "
                             "settle it by hand", kind="conflict", vm=name)  # fmt: skip
        if time.monotonic() > deadline:
            raise FleetError(
                f"{name}: the migration the previous engine started did not settle within "
                f"{timeout:g} s (on {source.name}: {src}, on {target.name}: {dst})",
                kind="timeout",
                vm=name,
            )
        await asyncio.sleep(0.5)
