"""The definitions of the VMs ovtui provisions, kept in the engine's store (table
`vm_definitions`): the source of truth for a VM that is down. A host holds a copy while the VM
is defined there; starting the VM may put that copy on another host (provision/service.py)."""

from __future__ import annotations

from typing import Any

from ovtui.store import Store

TABLE = "vm_definitions"


class Definitions:
    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.store.table(TABLE).all()]

    def get(self, uuid: str) -> dict[str, Any] | None:
        return next((r for r in self.all() if r["uuid"] == uuid), None)

    def named(self, name: str, datacenter: str) -> dict[str, Any] | None:
        return next(
            (r for r in self.all() if r["name"] == name and r["datacenter"] == datacenter), None
        )

    def put(self, record: dict[str, Any]) -> None:
        table = self.store.table(TABLE)
        ids = [r.doc_id for r in table.all() if r["uuid"] == record["uuid"]]
        if ids:
            table.update(record, doc_ids=ids)
        else:
            table.insert(record)

    def update(self, uuid: str, **fields: Any) -> None:
        table = self.store.table(TABLE)
        table.update(fields, doc_ids=[r.doc_id for r in table.all() if r["uuid"] == uuid])

    def remove(self, uuid: str) -> None:
        table = self.store.table(TABLE)
        table.remove(doc_ids=[r.doc_id for r in table.all() if r["uuid"] == uuid])
