"""Finding the object a path names, with 404/409 messages that say what to do instead."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException

from auth.principal import ObjectRef
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.model import VM, Host, Snapshot
from ovtui.storage.service import StorageService


def find_vm(snap: Snapshot, ident: str, readable: Callable[[VM], bool] | None = None) -> VM:
    """By UUID or unique name. A name is unique among the VMs the caller may read (`readable`):
    VMs of another scope are never named in the answer."""
    vm = snap.vm(ident)
    if vm is not None:
        return vm
    named = snap.vms_named(ident)
    if not named:
        raise HTTPException(404, f"no VM named or with UUID {ident!r} (list them: ovtui vm list)")
    mine = named if readable is None else [v for v in named if readable(v)]
    if len(mine) <= 1:
        return (mine or named)[0]  # none readable: the caller is refused on the name
    where = ", ".join(f"{v.uuid} on {v.host}" for v in mine)
    raise HTTPException(409, f"{len(mine)} VMs are named {ident!r} ({where}): use the UUID")


def find_host(snap: Snapshot, name: str) -> Host:
    host = snap.host(name)
    if host is None:
        raise HTTPException(404, f"no host named {name!r} (list them: ovtui host list)")
    return host


def find_storage(storage: StorageService, name: str) -> StorageDomainConfig:
    sd = storage.domain(name)
    if sd is None:
        names = ", ".join(d.name for d in storage.domains()) or "none configured"
        raise HTTPException(404, f"no storage domain named {name!r} (domains: {names})")
    return sd


def storage_ref(sd: StorageDomainConfig) -> ObjectRef:
    """A storage domain for authorisation: inside its data center."""
    return ObjectRef("storage", sd.name, sd.datacenter)
