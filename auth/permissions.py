"""Permissions are the actions the API can perform; roles are named sets of them (data)."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    INVENTORY_READ = "inventory.read"
    EVENTS_READ = "events.read"
    VM_POWER = "vm.power"  # start, shutdown, power off, reboot, suspend, resume
    VM_CONSOLE = "vm.console"
    VM_MIGRATE = "vm.migrate"
    VM_NETWORK = "vm.network"  # NICs of a VM: add, remove, link up/down (MAC from the DC's pool)
    HOST_MANAGE = "host.manage"  # maintenance, activate, power
    HOST_FENCE = "host.fence"  # power status/on/off, fence, confirm a host has been rebooted
    VM_HA = "vm.ha"  # a VM's HA flag and restart priority
    POLICY_MANAGE = "policy.manage"  # change modes, apply plans
    NETWORK_MANAGE = "network.manage"  # logical networks of a data center: define, attach, delete
    STORAGE_MANAGE = "storage.manage"  # storage domains (data center scope): realise now
    DISK_MANAGE = "disk.manage"  # create/grow/delete on a domain; attach/detach/move on a VM
    VM_CREATE = "vm.create"  # create, clone and import VMs in a cluster; edit their settings
    VM_DELETE = "vm.delete"  # delete a VM (and, if asked, its disks)
    TEMPLATE_MANAGE = "template.manage"  # make and delete templates
    VM_SNAPSHOT = "vm.snapshot"  # take, revert and delete a VM's snapshots
    AUDIT_READ = "audit.read"
    PERMISSIONS_MANAGE = "permissions.manage"


P = Permission
_READ = frozenset({P.INVENTORY_READ, P.EVENTS_READ})

ROLES: dict[str, frozenset[Permission]] = {
    "SuperUser": frozenset(Permission),
    "ClusterAdmin": _READ
    | {P.VM_POWER, P.VM_CONSOLE, P.VM_MIGRATE, P.VM_NETWORK, P.HOST_MANAGE, P.POLICY_MANAGE}
    | {P.HOST_FENCE, P.VM_HA, P.DISK_MANAGE, P.VM_CREATE, P.VM_DELETE, P.TEMPLATE_MANAGE}
    | {P.VM_SNAPSHOT, P.NETWORK_MANAGE},
    "PowerUser": _READ
    | {P.VM_POWER, P.VM_CONSOLE, P.VM_MIGRATE, P.VM_NETWORK, P.DISK_MANAGE, P.VM_CREATE}
    | {P.VM_SNAPSHOT},
    "Operator": _READ | {P.VM_POWER, P.VM_CONSOLE},
    "ReadOnly": _READ,
    "Auditor": _READ | {P.AUDIT_READ},
}


def permissions_of(roles: frozenset[str] | set[str]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLES.get(role, frozenset())
    return frozenset(out)
