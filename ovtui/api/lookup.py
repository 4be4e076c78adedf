"""Finding the object a path names, with 404/409 messages that say what to do instead."""

from __future__ import annotations

from fastapi import HTTPException

from auth.principal import ObjectRef
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.model import VM, Host, Snapshot
from ovtui.storage.service import StorageService


def find_vm(snap: Snapshot, ident: str) -> VM:
    vm = snap.vm(ident)
    if vm is not None:
        return vm
    named = snap.vms_named(ident)
    if len(named) == 1:
        return named[0]
    if not named:
        raise HTTPException(404, f"no VM named or with UUID {ident!r} (list them: ovtui vm list)")
    where = ", ".join(f"{v.uuid} on {v.host}" for v in named)
    raise HTTPException(409, f"{len(named)} VMs are named {ident!r} ({where}): use the UUID")


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
