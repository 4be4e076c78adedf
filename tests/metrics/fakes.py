"""Injected inputs for the exporter's collectors: snapshots, statistics and host links by hand."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from collectors.bulk_stats import DomainStats, HostStats
from collectors.fleet_collector import FleetCollector, ScrapeInput
from collectors.stats_cache import HostScrape
from ovtui.fleet.errors import FleetError
from ovtui.model import VM, Cluster, DataCenter, Host, HostState, LoadSource, Snapshot, VmState

GIB_MIB = 1024


def host(name: str = "h1", **kw: Any) -> Host:
    base: dict[str, Any] = dict(
        name=name, cluster="c1", datacenter="dc1", uri=f"qemu+ssh://{name}/system",
        state=HostState.UP, cpu_model="Skylake-Server", cpus=16, memory_mib=64 * GIB_MIB,
        cpu_usage=0.5, memory_used_mib=48 * GIB_MIB, vms_running=2, vcpus_committed=24,
        last_seen=time.time(),
    )  # fmt: skip
    base.update(kw)
    return Host(**base)


def vm(name: str, host_name: str = "h1", **kw: Any) -> VM:
    base: dict[str, Any] = dict(
        uuid=f"uuid-{name}", name=name, host=host_name, cluster="c1", datacenter="dc1",
        state=VmState.RUNNING, vcpus=4, memory_mib=8 * GIB_MIB, cpu_usage=0.25,
    )  # fmt: skip
    base.update(kw)
    return VM(**base)


def snapshot(hosts: list[Host], vms: list[VM]) -> Snapshot:
    return Snapshot(
        taken_at=time.time(),
        datacenters=(DataCenter("dc1"),),
        clusters=(Cluster("c1", "dc1", "Skylake-Server", memory_overcommit_percent=150,
                          scheduling_policy="evenly_distributed", scheduling_mode="recommend"),),
        hosts=tuple(hosts),
        vms=tuple(vms),
    )  # fmt: skip


def stats(domains: dict[str, dict[str, Any]] | None = None, **kw: Any) -> HostStats:
    doms = tuple(DomainStats(uuid, v) for uuid, v in (domains or {}).items())
    return HostStats(monotonic=time.monotonic(), wall=time.time(), domains=doms, **kw)


def up(name: str, host_stats: HostStats | None, duration: float = 0.01) -> HostScrape:
    return HostScrape(name, True, host_stats, duration, 0.5)


def registry_for(inputs: Callable[[], ScrapeInput]) -> CollectorRegistry:
    """A fresh registry holding only a FleetCollector fed by `inputs`."""
    registry = CollectorRegistry()
    registry.register(FleetCollector(lambda _budget: inputs()))
    return registry


def synthetic(h: Host) -> Host:
    from dataclasses import replace

    return replace(h, load_source=LoadSource.SYNTHETIC)


class FakeLink:
    """A host link whose calls run `fn(conn)` on a thread after `delay` seconds (or fail)."""

    def __init__(self, name: str, conn: Any, *, delay: float = 0.0, driver: str = "QEMU") -> None:
        self.name, self.conn, self.delay, self.driver = name, conn, delay, driver
        self.calls: list[dict[str, Any]] = []
        self.fail: FleetError | None = None
        self.release = threading.Event()
        self.release.set()

    async def call(
        self,
        fn: Callable[[Any], Any],
        *,
        action: str,
        vm: str | None = None,
        timeout: float | None = None,
        hung_means_lost: bool = True,
    ) -> Any:
        self.calls.append(
            {"action": action, "timeout": timeout, "hung_means_lost": hung_means_lost}
        )
        if self.fail is not None:
            raise self.fail
        if self.delay:
            await asyncio.sleep(self.delay)

        def run() -> Any:
            self.release.wait()
            return fn(self.conn)

        return await asyncio.to_thread(run)


class FakeConn:
    """What read_host_stats asks of a libvirt connection, answered from plain data."""

    def __init__(self, records: dict[str, dict[str, Any]] | None = None, **node: Any) -> None:
        self.records = records or {}
        self.node = node
        self.bulk_flags: list[int] = []

    def getAllDomainStats(self, _stats: int, flags: int) -> list[tuple[Any, dict[str, Any]]]:
        self.bulk_flags.append(flags)
        return [(_Dom(uuid), dict(v)) for uuid, v in self.records.items()]

    def getCPUStats(self, _cpu: int, _flags: int) -> dict[str, int]:
        return self.node.get("cpu", {"kernel": 10**9, "user": 2 * 10**9, "idle": 5 * 10**9})

    def getMemoryStats(self, _cell: int, _flags: int) -> dict[str, int]:
        return self.node.get("memory", {"total": 1024, "free": 256, "buffers": 0, "cached": 0})

    def getMemoryParameters(self, _flags: int) -> dict[str, int]:
        return self.node.get("ksm", {})


class _Dom:
    def __init__(self, uuid: str) -> None:
        self._uuid = uuid

    def UUIDString(self) -> str:
        return self._uuid

    def name(self) -> str:
        return self._uuid.removeprefix("uuid-")
