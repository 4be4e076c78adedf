"""Where hooks run around actions on any VM (provisioned by ovtui or not). Each reads the VM's
definition from its host only when some hook is installed for the event."""

from __future__ import annotations

from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.model import VM
from ovtui.provision import host_ops
from ovtui.provision.hooks import Hooks


async def _xml(fleet: Fleet, host: str, uuid: str, vm: str) -> str:
    return await fleet.links[host].call(
        lambda c: host_ops.inactive_xml(c, uuid), action="read the definition of", vm=vm
    )


async def before_start(hooks: Hooks, fleet: Fleet, vm: VM, actor: str) -> None:
    """before_vm_start: a changed definition is defined on the VM's host before it starts."""
    if not hooks.scripts("before_vm_start"):
        return
    xml = await _xml(fleet, vm.host, vm.uuid, vm.name)
    changed = await hooks.run("before_vm_start", xml, vm=vm.name, host=vm.host, actor=actor)
    if changed != xml:
        await fleet.links[vm.host].call(
            lambda c: host_ops.define(c, changed), action="define (hooked)", vm=vm.name
        )


async def after(hooks: Hooks, fleet: Fleet, event: str, vm: VM, host: str, actor: str) -> None:
    """after_vm_start, after_vm_stop, after_migrate: told, never undone."""
    if not hooks.scripts(event):
        return
    try:
        xml = await _xml(fleet, host, vm.uuid, vm.name)
    except FleetError:
        xml = f"<domain><name>{vm.name}</name><uuid>{vm.uuid}</uuid></domain>"
    await hooks.run(event, xml, vm=vm.name, host=host, actor=actor)


async def refuse_only(
    hooks: Hooks, fleet: Fleet, event: str, vm: VM, actor: str, what: str
) -> None:
    """before_migrate, before_disk_move: a hook may refuse; ovtui cannot apply a changed
    definition to these (no destination XML is passed to libvirt), so printing one refuses."""
    if not hooks.scripts(event):
        return
    xml = await _xml(fleet, vm.host, vm.uuid, vm.name)
    changed = await hooks.run(event, xml, vm=vm.name, host=vm.host, actor=actor)
    if changed != xml:
        raise FleetError(
            f"{vm.name}: a {event} hook printed a changed definition; ovtui cannot apply one to "
            f"{what}, so nothing was done (make the hook print nothing, or refuse)",
            kind="conflict",
            vm=vm.name,
        )
