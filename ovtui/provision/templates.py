"""Templates: a shut-off VM's definition without its identity, and copies of its disks that no
VM ever writes (VMs made from it get qcow2 overlays on them, or copies of them).

Kept in the store (table `templates`); the template volumes are recorded in the storage room's
`disks` table too (with `template` set), so the storage screens show them as ovtui's. `Blank`
is built in: no definition, no disks.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any

from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.model import VM, VmState
from ovtui.provision import host_ops, volume_ops
from ovtui.provision.domain_xml import strip_identity
from ovtui.provision.names import name_problem
from ovtui.provision.snapshot_ops import SEED_SUFFIX
from ovtui.storage import volumes
from ovtui.storage.disks import TABLE as DISKS_TABLE
from ovtui.storage.model import VolumeInfo
from ovtui.storage.pool_xml import domain_of_pool
from ovtui.storage.service import StorageService
from ovtui.storage.volume_xml import EXTENSION, format_of_volume
from ovtui.store import Store

TABLE = "templates"
BLANK = "Blank"


def blank() -> dict[str, Any]:
    return {
        "name": BLANK,
        "datacenter": None,  # every data center
        "description": "built in: no disks; give size, disks and NICs",
        "xml": None,
        "disks": [],
        "source_vm": None,
        "created_by": "ovtui",
        "created_at": 0.0,
    }


class Templates:
    def __init__(self, fleet: Fleet, storage: StorageService, store: Store) -> None:
        self.fleet, self.storage, self.store = fleet, storage, store

    def all(self) -> list[dict[str, Any]]:
        return [blank(), *(dict(r) for r in self.store.table(TABLE).all())]

    def get(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.all() if t["name"] == name), None)

    def find(self, name: str) -> dict[str, Any]:
        found = self.get(name)
        if found is None:
            names = ", ".join(t["name"] for t in self.all())
            raise FleetError(f"no template named {name!r} (templates: {names})", kind="invalid")
        return found

    def disks_of(self, vm: VM) -> list[tuple[str, str, str, str]]:
        """(target, domain, volume, format) of every disk of vm; refuses one ovtui cannot copy."""
        if vm.devices is None:
            raise FleetError(
                f"{vm.name}'s disks are not read yet: try again shortly", kind="unavailable"
            )
        out = []
        for d in vm.devices.disks:
            if d.device != "disk" or d.source.endswith(SEED_SUFFIX):
                continue  # CD-ROMs and cloud-init seeds are not copied: each VM gets its own
            pool, _, volume = d.source.partition("/")
            domain = domain_of_pool(pool) if d.source_type == "volume" else None
            sd = self.storage.domain(domain or "")
            if sd is None or sd.type == "iscsi":
                raise FleetError(
                    f"{vm.name}'s disk {d.target} ({d.source_type} {d.source or 'empty'}) is not "
                    "a volume of an ovtui file storage domain: ovtui copies only those "
                    "(move it to one first: ovtui disk move)",
                    kind="invalid",
                    vm=vm.name,
                )
            out.append((d.target, sd.name, volume, format_of_volume(volume)))
        return out

    async def make(self, vm: VM, name: str, description: str, actor: str) -> dict[str, Any]:
        problem = name_problem(name, "template")
        if problem:
            raise FleetError(problem, kind="invalid")
        if self.get(name) is not None:
            raise FleetError(f"a template named {name!r} already exists", kind="conflict")
        if vm.state != VmState.SHUTOFF:
            raise FleetError(
                f"{vm.name} is {vm.state.value}: a template is made from a shut-off VM "
                "(its disks must not change while they are copied); shut it down first",
                kind="conflict",
                vm=vm.name,
            )
        disks = self.disks_of(vm)
        link = self.fleet.links[vm.host]
        xml = await link.call(
            lambda c: host_ops.inactive_xml(c, vm.uuid), action="read", vm=vm.name
        )
        made: list[tuple[str, str]] = []
        rows: list[dict[str, Any]] = []
        try:
            for i, (target, domain, volume, fmt) in enumerate(disks):
                new = f"{name}-tpl-disk{i + 1}{EXTENSION[fmt]}"

                def copy(
                    c: Any, d: str = domain, v: str = volume, n: str = new, f: str = fmt
                ) -> VolumeInfo:
                    return volume_ops.copy(c, d, v, n, f)

                info = await link.call(
                    copy,
                    action=f"copy {volume} into template {name}",
                    timeout=self.fleet.config.engine.migration_timeout_seconds,
                )
                made.append((domain, info.name))
                rows.append(
                    {"domain": domain, "volume": info.name, "format": fmt, "target": target,
                     "capacity_bytes": info.capacity, "path": info.path}
                )  # fmt: skip
        except BaseException:
            for domain, volume in made:
                try:
                    await link.call(_deleting(domain, volume), action="undo")
                except FleetError:
                    pass
            raise
        record = {
            "name": name,
            "datacenter": vm.datacenter,
            "description": description,
            "xml": _renamed(strip_identity(xml), name),
            "disks": rows,
            "source_vm": vm.name,
            "made_on": vm.host,  # a shared domain is the same everywhere; a local one is not
            "created_by": actor,
            "created_at": time.time(),
        }
        self.store.table(TABLE).insert(record)
        for r in rows:
            self.store.table(DISKS_TABLE).insert(
                {"name": r["volume"].rsplit(".", 1)[0], "domain": r["domain"],
                 "volume": r["volume"], "format": r["format"], "allocation": "thin",
                 "template": name, "created_by": actor, "created_at": time.time()}
            )  # fmt: skip
        for domain in {r["domain"] for r in rows}:
            await self.storage.refresh(domain, vm.host)
            self.storage.request(domain)
        return {"result": f"template {name} made from {vm.name}", "template": record}

    def dependents(self, name: str, definitions: list[dict[str, Any]]) -> list[str]:
        """VMs whose disks are overlays on the template's volumes."""
        return [d["name"] for d in definitions if d.get("template") == name and d.get("thin")]

    async def delete(self, name: str, definitions: list[dict[str, Any]]) -> dict[str, Any]:
        if name == BLANK:
            raise FleetError("Blank is built in: it cannot be deleted", kind="invalid")
        t = self.find(name)
        users = self.dependents(name, definitions)
        if users:
            raise FleetError(
                f"template {name} is used by {', '.join(sorted(users))} (their disks are "
                "overlays on its volumes): delete those VMs first",
                kind="conflict",
            )
        for r in t["disks"]:
            hosts = sorted(self.storage.hosts(r["domain"]), key=lambda h: h != t.get("made_on"))
            host = next((h for h in hosts if self.storage.reading(r["domain"], h).usable), None)
            if host is None:
                raise FleetError(
                    f"storage domain {r['domain']} is not active on any host: its template "
                    "volumes cannot be deleted now",
                    kind="unavailable",
                )
            await self.fleet.links[host].call(
                _deleting(r["domain"], r["volume"]),
                action=f"delete template volume {r['volume']}",
            )
            table = self.store.table(DISKS_TABLE)
            table.remove(
                doc_ids=[x.doc_id for x in table.all()
                         if (x["domain"], x["volume"]) == (r["domain"], r["volume"])]
            )  # fmt: skip
            await self.storage.refresh(r["domain"], host)
        table = self.store.table(TABLE)
        table.remove(doc_ids=[x.doc_id for x in table.all() if x["name"] == name])
        return {"result": f"template {name} deleted", "deleted_disks": [
            f"{r['domain']}/{r['volume']}" for r in t["disks"]]}  # fmt: skip


def _deleting(domain: str, volume: str) -> Any:
    def run(conn: Any) -> None:
        volumes.delete(conn, domain, volume)

    return run


def _renamed(xml: str, name: str) -> str:
    root = ET.fromstring(xml)
    el = root.find("name")
    if el is not None:
        el.text = name
    return ET.tostring(root, encoding="unicode")
