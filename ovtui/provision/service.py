"""Provisioning VMs: create (blank), start a down VM on the host the scheduler picks, delete.

A VM ovtui provisions is kept in the store (provision/records.py) with its definition; a host
holds a copy while the VM is defined there. Creating one chooses a host (policies/new_vm.py),
makes its disks through that host, defines it there and records it. Starting it chooses again:
if another host is better now (and its disks' domains are active there), the definition moves
there first. Whatever fails half-way is undone in reverse (definition, then volumes, then the
record), so a refused create leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ovtui.config.schema import Config
from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.model import VM, VmState
from ovtui.provision import changes, cloud_init, hooked, host_ops, importer, seed, volume_ops
from ovtui.provision.domain_xml import DiskRef, blank_xml, from_template
from ovtui.provision.hooks import Hooks
from ovtui.provision.names import name_problem
from ovtui.provision.records import Definitions
from ovtui.provision.snapshot_ops import SEED_SUFFIX
from ovtui.provision.snapshots import Snapshots
from ovtui.provision.spec import Copy, VmSpec
from ovtui.provision.templates import Templates
from ovtui.storage import volumes
from ovtui.storage.disks import TABLE as DISKS_TABLE
from ovtui.storage.disks import DiskService
from ovtui.storage.model import VolumeInfo
from ovtui.storage.pool_xml import domain_of_pool, pool_name
from ovtui.storage.service import StorageService
from ovtui.storage.volume_xml import EXTENSION, VolumeRequest, next_target
from ovtui.store import Store
from policies.new_vm import Choice, choose_host
from policies.params import parse_params

log = logging.getLogger(__name__)


def _int_of(xml: str, tag: str, default: int) -> int:
    """vCPUs (`vcpu`) or memory in KiB (`memory`, any unit libvirt writes) of a definition."""
    el = ET.fromstring(xml).find(tag)
    if el is None or not (el.text or "").strip().isdigit():
        return default
    value = int(el.text or 0)
    if tag == "memory":
        unit = el.get("unit", "KiB")
        value = (
            value
            * {
                "b": 1,
                "bytes": 1,
                "KiB": 1024,
                "k": 1024,
                "MiB": 1 << 20,
                "M": 1 << 20,
                "GiB": 1 << 30,
                "G": 1 << 30,
            }.get(unit, 1024)
            // 1024
        )
    return value


GIB = 1 << 30
Undo = Callable[[], Awaitable[None]]


def targets(refs: list[DiskRef]) -> set[str]:
    return {r.target for r in refs}


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


class ProvisionService:
    def __init__(
        self,
        config: Config,
        fleet: Fleet,
        storage: StorageService,
        disks: DiskService,
        store: Store,
        hooks: Hooks | None = None,
    ) -> None:
        self.config, self.fleet, self.storage, self.disks = config, fleet, storage, disks
        self.store = store
        self.definitions = Definitions(store)
        self.templates = Templates(fleet, storage, store)
        self.snapshots = Snapshots(fleet)
        self.hooks = hooks or Hooks(None, 1.0, lambda **_kw: None)
        # (kind, result, seconds) for every VM made: the engine counts them (metrics)
        self.on_provisioned: Callable[[str, str, float], None] = lambda _k, _r, _s: None

    def owns(self, uuid: str) -> bool:
        return self.definitions.get(uuid) is not None

    # -- checks ----------------------------------------------------------------------------
    def check(self, spec: VmSpec) -> str:
        """Raises FleetError naming the first problem; returns the cluster's data center."""
        problem = name_problem(spec.name)
        if problem:
            raise FleetError(problem, kind="invalid")
        cluster = next((c for c in self.config.clusters if c.name == spec.cluster), None)
        if cluster is None:
            names = ", ".join(c.name for c in self.config.clusters)
            raise FleetError(
                f"no cluster named {spec.cluster!r} (clusters: {names})", kind="invalid"
            )
        dc = cluster.datacenter
        snap = self.fleet.snapshot()
        taken = [v for v in snap.vms if v.name == spec.name and v.datacenter == dc]
        if taken or self.definitions.named(spec.name, dc):
            where = f" (on {taken[0].host})" if taken else ""
            raise FleetError(
                f"a VM named {spec.name!r} already exists in data center {dc}{where}: "
                "choose another name",
                kind="conflict",
            )
        if spec.host is not None and spec.host not in {h.name for h in snap.hosts_in(spec.cluster)}:
            names = ", ".join(h.name for h in snap.hosts_in(spec.cluster))
            raise FleetError(
                f"host {spec.host!r} is not in cluster {spec.cluster} (its hosts: {names})",
                kind="invalid",
            )
        self.check_size(spec)
        for i, d in enumerate(spec.disks):
            self._check_disk(i, d.domain, d.size_bytes, d.format, d.allocation, dc)
        if spec.cloud_init is not None:
            why = cloud_init.problem(spec.cloud_init)
            if why:
                raise FleetError(why, kind="invalid")
            if spec.cloud_init.storage is not None:
                self._check_disk(len(spec.disks), spec.cloud_init.storage, 1, "raw", "thin", dc)
        for n in spec.nics:
            if n.type not in ("bridge", "network") or not n.source:
                raise FleetError(
                    f"NIC {n.type}:{n.source!r}: give a bridge or a libvirt network by name",
                    kind="invalid",
                )
        return dc

    def check_size(self, spec: VmSpec) -> None:
        """Memory and vCPUs within the largest host of the cluster (0: not known yet)."""
        hosts = [h for h in self.fleet.snapshot().hosts_in(spec.cluster) if h.memory_mib > 0]
        if not hosts:
            return
        big = max(hosts, key=lambda h: h.memory_mib)
        if spec.memory_mib > big.memory_mib:
            raise FleetError(
                f"memory {spec.memory_mib} MiB is more than any host of cluster "
                f"{spec.cluster} has (the largest, {big.name}, has {big.memory_mib} MiB)",
                kind="invalid",
            )
        most = max(hosts, key=lambda h: h.cpus)
        if spec.vcpus > most.cpus:
            raise FleetError(
                f"{spec.vcpus} vCPUs are more than any host of cluster {spec.cluster} has "
                f"(the largest, {most.name}, has {most.cpus} CPUs)",
                kind="invalid",
            )

    def _check_disk(self, i: int, domain: str, size: int, fmt: str, alloc: str, dc: str) -> None:
        sd = self.storage.domain(domain)
        if sd is None:
            names = ", ".join(d.name for d in self.storage.domains()) or "none configured"
            raise FleetError(
                f"disk {i + 1}: no storage domain named {domain!r} (domains: {names})",
                kind="invalid",
            )
        if sd.datacenter != dc:
            raise FleetError(
                f"disk {i + 1}: storage domain {domain} belongs to data center "
                f"{sd.datacenter}, not {dc}",
                kind="invalid",
            )
        if sd.type == "iscsi":
            raise FleetError(
                f"disk {i + 1}: storage domain {domain} is iSCSI (its disks are the target's "
                "LUNs): put new disks on a file domain and attach LUNs afterwards",
                kind="invalid",
            )
        if fmt not in ("qcow2", "raw") or alloc not in ("thin", "preallocated"):
            raise FleetError(
                f"disk {i + 1}: format is qcow2 or raw, allocation thin or preallocated",
                kind="invalid",
            )
        readings = [self.storage.reading(domain, h) for h in self.storage.hosts(domain)]
        usable = [r for r in readings if r.usable]
        if not usable:
            raise FleetError(
                f"disk {i + 1}: storage domain {domain} is not active on any host now",
                kind="unavailable",
            )
        capacity = max(r.capacity for r in usable)
        if size > capacity:
            raise FleetError(
                f"disk {i + 1}: {_gib(size)} is larger than storage domain {domain} holds "
                f"({_gib(capacity)}): make it smaller or use another domain",
                kind="conflict",
            )

    # -- placement -------------------------------------------------------------------------
    def _params_of(self, cluster: str) -> Any:
        return parse_params(dict(self.config.cluster(cluster).scheduling.params))

    def choose(self, vm: VM, only: str | None = None) -> Choice:
        return choose_host(self.fleet.snapshot(), vm, self._params_of(vm.cluster), only=only)

    @staticmethod
    def model_of(spec: VmSpec, uuid: str, dc: str, domains: tuple[str, ...]) -> VM:
        return VM(
            uuid=uuid,
            name=spec.name,
            host="",
            cluster=spec.cluster,
            datacenter=dc,
            state=VmState.SHUTOFF,
            vcpus=spec.vcpus,
            memory_mib=spec.memory_mib,
            highly_available=spec.ha,
            pinned=spec.pinned,
            migratable=spec.migratable,
            affinity_group=spec.affinity_group,
            anti_affinity_group=spec.anti_affinity_group,
            storage_domains=domains,
        )

    # -- create ----------------------------------------------------------------------------
    async def create(self, spec: VmSpec, actor: str, *, start: bool = False) -> dict[str, Any]:
        """A new VM, blank or from a template (thin: overlays on its volumes; else copies)."""
        dc = self.check(spec)
        template = self.templates.find(spec.template)
        if template["datacenter"] not in (None, dc):
            raise FleetError(
                f"template {spec.template} belongs to data center {template['datacenter']}, "
                f"not {dc}",
                kind="invalid",
            )
        if template["xml"] is not None:
            spec = replace(
                spec,
                vcpus=spec.vcpus or _int_of(template["xml"], "vcpu", 1),
                memory_mib=spec.memory_mib or _int_of(template["xml"], "memory", 1024 << 9) >> 10,
            )
        spec = replace(spec, vcpus=spec.vcpus or 1, memory_mib=spec.memory_mib or 512)
        self.check_size(spec)
        copies = [
            Copy(r["domain"], r["volume"], r["format"], thin=spec.thin) for r in template["disks"]
        ]
        base = template["xml"]

        def build(refs: list[DiskRef], kind: str, uuid: str) -> str:
            if base is None:
                return blank_xml(spec, uuid, kind, refs)
            return from_template(base, spec, uuid, refs)

        return await self.provision(spec, dc, copies, build, actor, start=start)

    async def provision(
        self,
        spec: VmSpec,
        dc: str,
        copies: list[Copy],
        build: Callable[[list[DiskRef], str, str], str],
        actor: str,
        *,
        start: bool = False,
        host: str | None = None,
        uploads: tuple[tuple[str, Path], ...] = (),
        kind: str = "create",
    ) -> dict[str, Any]:
        """Place, make the disks (copies or overlays of `copies`, then the spec's new ones),
        define, record, maybe start; undo everything made if any step fails."""
        began = time.monotonic()
        try:
            out = await self._provision(spec, dc, copies, build, actor, start, host, uploads)
        except BaseException:
            self.on_provisioned(kind, "failed", time.monotonic() - began)
            raise
        self.on_provisioned(kind, "ok", time.monotonic() - began)
        return out

    async def _provision(
        self,
        spec: VmSpec,
        dc: str,
        copies: list[Copy],
        build: Callable[[list[DiskRef], str, str], str],
        actor: str,
        start: bool,
        host: str | None,
        uploads: tuple[tuple[str, Path], ...],
    ) -> dict[str, Any]:
        uuid = str(uuidlib.uuid4())
        domains = {d.domain for d in spec.disks} | {c.domain for c in copies}
        domains |= {domain for domain, _path in uploads}
        if spec.cloud_init is not None and spec.cloud_init.storage is not None:
            domains.add(spec.cloud_init.storage)
        choice = self.choose(
            self.model_of(spec, uuid, dc, tuple(sorted(domains))), host or spec.host
        )
        if choice.host is None:
            raise FleetError(f"cannot place {spec.name}: {choice.reason}", kind="conflict")
        host = choice.host
        link = self.fleet.links[host]
        undo: list[Undo] = []
        try:
            refs = await self._upload_disks(spec.name, uploads, host, actor, undo)
            refs += await self._copy_disks(spec.name, copies, host, actor, undo, len(refs))
            more, warnings = await self._make_disks(spec, host, actor, undo, len(refs))
            refs += more
            if spec.cloud_init is not None:
                refs.append(await self._seed(spec, uuid, host, refs, actor, undo))
            kind = await link.call(
                lambda conn: host_ops.virt_type(conn, self.config.provision.virt_type),
                action="read the driver of",
            )
            xml = await self.hooks.run(
                "before_vm_create", build(refs, kind, uuid), vm=spec.name, host=host, actor=actor
            )
            await link.call(lambda conn: host_ops.define(conn, xml), action=f"define {spec.name}")

            async def undefine() -> None:
                await link.call(lambda conn: host_ops.undefine(conn, uuid), action="undefine")
                await self.fleet.refresh_now(host)

            undo.append(undefine)
            undo.append(self._forget(uuid))
            self._record(spec, uuid, dc, host, xml, refs, actor, thin=bool(copies) and spec.thin)
            started = False
            if start:
                await link.call(
                    lambda conn: host_ops.start(conn, uuid), action="start", vm=spec.name
                )
                started = True
        except BaseException:
            await self._undo(undo)
            raise
        await self.fleet.refresh_now(host)
        for domain in sorted({domain_of_pool(r.pool) or "" for r in refs} - {""}):
            await self.storage.refresh(domain, host)  # the volumes made show at once
            self.storage.request(domain)
        return {
            "result": f"created {spec.name} on {host}" + (" and started it" if started else ""),
            "vm": spec.name,
            "uuid": uuid,
            "host": host,
            "placement": choice.reason,
            "started": started,
            "disks": [{"domain": r.pool.removeprefix("ovtui-"), "volume": r.volume,
                       "format": r.format, "target": r.target} for r in refs],
            "warnings": warnings,
        }  # fmt: skip

    async def _upload_disks(
        self,
        name: str,
        uploads: tuple[tuple[str, Path], ...],
        host: str,
        actor: str,
        undo: list[Undo],
    ) -> list[DiskRef]:
        """Imported disks (qcow2 files on the engine's machine) uploaded into volumes."""
        refs: list[DiskRef] = []
        for i, (domain, path) in enumerate(uploads):
            new = f"{name}-disk{i + 1}.qcow2"

            def send(c: Any, n: str = new, p: Path = path, d: str = domain) -> str:
                return host_ops.upload_file(c, pool_name(d), n, p)

            await self.fleet.links[host].call(
                send,
                action=f"upload imported disk {new}",
                timeout=self.config.engine.migration_timeout_seconds,
            )
            undo.append(self._delete_volume(domain, new, host))
            self.store.table(DISKS_TABLE).insert(
                {"name": new.rsplit(".", 1)[0], "domain": domain, "volume": new,
                 "format": "qcow2", "allocation": "thin", "imported": True,
                 "created_by": actor, "created_at": time.time()}
            )  # fmt: skip
            refs.append(
                DiskRef(pool_name(domain), new, "qcow2", next_target({r.target for r in refs}))
            )
        return refs

    async def _copy_disks(
        self,
        name: str,
        copies: list[Copy],
        host: str,
        actor: str,
        undo: list[Undo],
        first: int = 0,
    ) -> list[DiskRef]:
        refs: list[DiskRef] = []
        link = self.fleet.links[host]
        used: set[str] = set()
        for _ in range(first):
            used.add(next_target(used))
        for i, c in enumerate(copies):
            fmt = "qcow2" if c.thin else c.format
            new = f"{name}-disk{first + i + 1}{EXTENSION[fmt]}"

            def op(conn: Any, c: Copy = c, new: str = new) -> VolumeInfo:
                make = volume_ops.overlay if c.thin else volume_ops.copy
                return make(conn, c.domain, c.volume, new, c.format)

            info = await link.call(
                op,
                action=f"{'overlay' if c.thin else 'copy'} {c.volume} for {name}",
                timeout=self.config.engine.migration_timeout_seconds,
            )
            undo.append(self._delete_volume(c.domain, info.name, host))
            self.store.table(DISKS_TABLE).insert(
                {"name": new.rsplit(".", 1)[0], "domain": c.domain, "volume": info.name,
                 "format": fmt, "allocation": "thin", "backing": c.volume if c.thin else None,
                 "created_by": actor, "created_at": time.time()}
            )  # fmt: skip
            refs.append(
                DiskRef(pool_name(c.domain), info.name, fmt, next_target({*used, *targets(refs)}))
            )
        return refs

    async def _seed(
        self, spec: VmSpec, uuid: str, host: str, refs: list[DiskRef], actor: str, undo: list[Undo]
    ) -> DiskRef:
        """The NoCloud seed, built on the engine, uploaded into a volume of the seed's domain
        (given, else the first disk's), attached read-only as a disk or a CD-ROM."""
        ci = spec.cloud_init
        assert ci is not None
        domain = ci.storage or (domain_of_pool(refs[0].pool) if refs else None)
        if domain is None:
            raise FleetError(
                f"{spec.name} has no disk: say where its cloud-init seed goes "
                "(cloud_init.storage, a storage domain)",
                kind="invalid",
            )
        data = await asyncio.to_thread(seed.build, ci, uuid)
        name = spec.name + SEED_SUFFIX
        await self.fleet.links[host].call(
            lambda c: host_ops.upload(c, pool_name(domain), name, data),
            action=f"upload the cloud-init seed of {spec.name}",
        )
        undo.append(self._delete_volume(domain, name, host))
        self.store.table(DISKS_TABLE).insert(
            {"name": name.rsplit(".", 1)[0], "domain": domain, "volume": name, "format": "raw",
             "allocation": "thin", "seed": True, "created_by": actor, "created_at": time.time()}
        )  # fmt: skip
        if ci.attach == "cdrom":
            return DiskRef(pool_name(domain), name, "raw", "hdc", readonly=True, device="cdrom")
        target = next_target({r.target for r in refs})
        return DiskRef(pool_name(domain), name, "raw", target, readonly=True)

    async def _make_disks(
        self, spec: VmSpec, host: str, actor: str, undo: list[Undo], first: int = 0
    ) -> tuple[list[DiskRef], list[str]]:
        refs: list[DiskRef] = []
        warnings: list[str] = []
        used: set[str] = set()
        for _ in range(first):
            used.add(next_target(used))
        for i, d in enumerate(spec.disks):
            name = f"{spec.name}-disk{first + i + 1}"
            req = VolumeRequest(name, d.size_bytes, d.format, d.allocation)  # type: ignore[arg-type]
            made = await self.disks.create(d.domain, req, actor, prefer=host)
            undo.append(self._delete_volume(d.domain, req.volume, host))
            warnings += made.get("warnings", [])
            target = next_target(used)
            used.add(target)
            refs.append(DiskRef(pool_name(d.domain), req.volume, d.format, target))
        return refs, warnings

    def _delete_volume(self, domain: str, volume: str, host: str) -> Undo:
        """Undo of a volume made moments ago for this VM: nobody else can use it yet."""

        async def run() -> None:
            await self._remove_volume(domain, volume, host)

        return run

    async def _remove_volume(self, domain: str, volume: str, host: str) -> None:
        """Deletes a volume through `host` (where the VM was: it sees the domain), then its
        record. Not DiskService.delete: that waits until every VM's disks of the domain's hosts
        are read, and a refused create must not leave its volume behind meanwhile."""
        reading = self.storage.reading(domain, host)
        path = next((v.path for v in reading.volumes if v.name == volume), None)
        refs = {f"{pool_name(domain)}/{volume}", *([path] if path else [])}
        users = [
            f"{vm.name} ({d.target})"
            for vm in self.fleet.snapshot().vms
            for d in (vm.devices.disks if vm.devices else ())
            if d.source in refs
        ]
        if users:
            raise FleetError(f"{volume} is in use by {', '.join(users)}: kept", kind="conflict")
        await self.fleet.links[host].call(
            lambda conn: volumes.delete(conn, domain, volume), action=f"delete disk {volume}"
        )
        table = self.store.table(DISKS_TABLE)
        table.remove(
            doc_ids=[
                r.doc_id for r in table.all() if (r["domain"], r["volume"]) == (domain, volume)
            ]
        )
        await self.storage.refresh(domain, host)
        self.storage.request(domain)

    def _forget(self, uuid: str) -> Undo:
        async def run() -> None:
            self.definitions.remove(uuid)
            self.store.set_vm_settings(uuid, ha=False, ha_priority=0)

        return run

    async def _undo(self, undo: list[Undo]) -> None:
        for step in reversed(undo):
            try:
                await step()
            except Exception:  # undo everything that can be undone; the cause is raised
                log.exception("undoing a half-made VM")

    def _record(
        self,
        spec: VmSpec,
        uuid: str,
        dc: str,
        host: str,
        xml: str,
        refs: list[DiskRef],
        actor: str,
        *,
        thin: bool = False,
    ) -> None:
        self.definitions.put(
            {
                "uuid": uuid,
                "name": spec.name,
                "cluster": spec.cluster,
                "datacenter": dc,
                "template": spec.template,
                "thin": thin,  # its disks are overlays on the template's volumes
                "host": host,
                "xml": xml,
                "description": spec.description,
                "disks": [
                    {"domain": r.pool.removeprefix("ovtui-"), "volume": r.volume,
                     "format": r.format, "target": r.target} for r in refs
                ],
                "created_by": actor,
                "created_at": time.time(),
            }
        )  # fmt: skip
        # Where the HA room reads a VM's HA flag and priority (store.vm_settings, by uuid).
        self.store.set_vm_settings(uuid, ha=spec.ha, ha_priority=spec.ha_priority)

    # -- start -----------------------------------------------------------------------------
    async def start(self, vm: VM, actor: str = "system") -> dict[str, Any]:
        """Start a provisioned VM on the host the scheduler picks now (moving its definition
        there if that is not where it is defined); before_vm_start hooks may change the
        definition that is defined there, or refuse."""
        began = time.monotonic()
        rec = self.definitions.get(vm.uuid)
        if rec is None:
            raise FleetError(f"{vm.name} was not provisioned by ovtui", kind="invalid")
        if vm.active:
            raise FleetError(f"{vm.name} is already {vm.state.value} on {vm.host}", kind="conflict")
        old = vm.host
        old_link = self.fleet.links.get(old)
        old_up = old_link is not None and old_link.conn is not None and vm.state != VmState.UNKNOWN
        only = None
        note = ""
        if vm.pinned and old in self.fleet.links:
            only, note = old, f"; pinned to {old}"
        elif old_up and old_link is not None:
            n = await old_link.call(lambda c: host_ops.snapshot_count(c, vm.uuid), action="read")
            if n:
                only, note = old, f"; it stays on {old}: its {n} snapshot(s) are kept there"
        choice = self.choose(replace(vm, state=VmState.SHUTOFF), only)
        if choice.host is None:
            raise FleetError(
                f"cannot start {vm.name}: {choice.reason}", kind="conflict", vm=vm.name
            )
        new = choice.host
        link = self.fleet.links[new]
        if new != old:
            xml = rec["xml"]
            if old_up and old_link is not None:
                xml = await old_link.call(
                    lambda c: host_ops.inactive_xml(c, vm.uuid), action="read"
                )
            xml = await self.hooks.run("before_vm_start", xml, vm=vm.name, host=new, actor=actor)
            await link.call(lambda c: host_ops.define(c, xml), action="define", vm=vm.name)
            try:
                await link.call(lambda c: host_ops.start(c, vm.uuid), action="start", vm=vm.name)
            except FleetError:
                await link.call(lambda c: host_ops.undefine(c, vm.uuid), action="undefine")
                await self.fleet.refresh_now(new)
                raise
            self.definitions.update(vm.uuid, host=new, xml=xml)
            if old_up and old_link is not None:
                await old_link.call(lambda c: host_ops.undefine(c, vm.uuid), action="undefine")
            else:
                note = f"; {old} did not answer: its copy of the definition is stale"
                self.definitions.update(vm.uuid, stale_on=sorted({*rec.get("stale_on", []), old}))
            await self.fleet.refresh_now(*(h for h in (old, new) if h in self.fleet.links))
            result = f"started on {new} (defined there, moved from {old})"
        else:
            await hooked.before_start(self.hooks, self.fleet, vm, actor)
            try:
                await link.call(lambda c: host_ops.start(c, vm.uuid), action="start", vm=vm.name)
            finally:
                await self.fleet.refresh_now(new)
            result = f"started on {new}"
        await hooked.after(self.hooks, self.fleet, "after_vm_start", vm, new, actor)
        return {
            "vm": vm.name,
            "uuid": vm.uuid,
            "host": new,
            "action": "start",
            "result": result,
            "placement": choice.reason + note,
            "seconds": round(time.monotonic() - began, 3),
        }

    # -- delete ----------------------------------------------------------------------------
    def disks_of(self, vm: VM) -> list[dict[str, Any]]:
        """The disks a delete with disks removes: volumes of ovtui's file domains."""
        out = []
        for d in vm.devices.disks if vm.devices else ():
            if d.source_type != "volume":
                continue
            pool, _, volume = d.source.partition("/")
            sd = self.storage.domain(domain_of_pool(pool) or "")
            if sd is not None and sd.type != "iscsi":
                out.append({"target": d.target, "domain": sd.name, "volume": volume})
        return out

    async def delete(self, vm: VM, with_disks: bool) -> dict[str, Any]:
        if vm.active:
            raise FleetError(
                f"{vm.name} is {vm.state.value} on {vm.host}: power it off first",
                kind="conflict",
                vm=vm.name,
            )
        if vm.devices is None:
            raise FleetError(
                f"{vm.name}'s disks are not read yet: try again shortly", kind="unavailable"
            )
        disks = self.disks_of(vm) if with_disks else []
        link = self.fleet.links[vm.host]
        await link.call(lambda c: host_ops.undefine(c, vm.uuid), action="undefine", vm=vm.name)
        await self.fleet.refresh_now(vm.host)
        self.definitions.remove(vm.uuid)
        deleted, kept = [], []
        for d in disks:
            try:
                await self._remove_volume(d["domain"], d["volume"], vm.host)
                deleted.append(f"{d['domain']}/{d['volume']}")
            except FleetError as exc:
                kept.append(f"{d['domain']}/{d['volume']}: {exc.message}")
        text = f"deleted {vm.name}" + (
            f" and its disks {', '.join(deleted)}" if deleted else " (its disks kept)"
        )
        return {"result": text, "vm": vm.name, "deleted_disks": deleted, "kept_disks": kept}

    # -- clone, edit, templates (provision/changes.py, provision/templates.py) ----------------
    async def clone(self, vm: VM, name: str, actor: str) -> dict[str, Any]:
        return await changes.clone(self, vm, name, actor)

    async def edit(self, vm: VM, fields: dict[str, Any]) -> dict[str, Any]:
        return await changes.edit(self, vm, fields)

    async def make_template(
        self, vm: VM, name: str, description: str, actor: str
    ) -> dict[str, Any]:
        return await self.templates.make(vm, name, description, actor)

    async def delete_template(self, name: str) -> dict[str, Any]:
        return await self.templates.delete(name, self.definitions.all())

    def template_view(self, t: dict[str, Any]) -> dict[str, Any]:
        users = [d["name"] for d in self.definitions.all() if d.get("template") == t["name"]]
        return {
            **{k: t[k] for k in ("name", "datacenter", "description", "source_vm", "created_by",
                                 "created_at")},
            "disks": [{k: d[k] for k in ("domain", "volume", "format", "target",
                                         "capacity_bytes")} for d in t["disks"]],
            "vms": sorted(users),
            "thin_vms": sorted(self.templates.dependents(t["name"], self.definitions.all())),
        }  # fmt: skip

    # -- import (provision/importer.py) -------------------------------------------------------
    async def import_vm(
        self,
        cluster: str,
        source: str,
        storage: str,
        actor: str,
        *,
        name: str | None = None,
        vcpus: int | None = None,
        memory_mib: int | None = None,
        start: bool = False,
        v2v: bool = False,
    ) -> dict[str, Any]:
        """An image or an OVA under import_dir becomes a new VM whose disks are on `storage`."""
        if v2v:
            where = shutil.which("virt-v2v")
            raise FleetError(
                "virt-v2v is not installed on the engine (Debian package virt-v2v)"
                if where is None
                else f"virt-v2v is installed ({where}) but ovtui does not run it yet: import "
                "without driver conversion",
                kind="invalid",
            )
        path = importer.inside(self.config.provision.import_dir, source)
        if name is not None:
            self.check(VmSpec(name=name, cluster=cluster))  # a bad name before a long convert
        with tempfile.TemporaryDirectory(prefix="ovtui-import-") as work:
            got = await asyncio.to_thread(importer.prepare, path, Path(work))
            spec = VmSpec(
                name=name or got.name,
                cluster=cluster,
                vcpus=vcpus or got.vcpus or 1,
                memory_mib=memory_mib or got.memory_mib or 512,
                description=f"imported from {path.name}",
            )
            dc = self.check(spec)
            self._check_disk(0, storage, 0, "qcow2", "thin", dc)
            uploads = tuple((storage, p) for p in got.disks)

            def build(refs: list[DiskRef], kind: str, uuid: str) -> str:
                return blank_xml(spec, uuid, kind, refs)

            out = await self.provision(
                spec, dc, [], build, actor, start=start, uploads=uploads, kind="import"
            )
        out["result"] = f"imported {path.name} as {spec.name} on {out['host']}"
        return out
