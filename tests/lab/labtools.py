"""Helpers for lab tests: CPU rates from libvirt's bulk stats, migration, uptime from a log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import libvirt

from ovtui.lab import guestinit

MIGRATE_FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)


def cpu_rates(conn: Any, seconds: float = 2.0) -> dict[str, float]:
    """CPU use of each running guest in cores (1.0 = one core busy), from cpu.time."""

    def sample() -> tuple[float, dict[str, int]]:
        stats = conn.getAllDomainStats(
            libvirt.VIR_DOMAIN_STATS_CPU_TOTAL, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING
        )
        return time.monotonic(), {d.name(): s["cpu.time"] for d, s in stats}

    t0, a = sample()
    time.sleep(seconds)
    t1, b = sample()
    return {n: (b[n] - a[n]) / 1e9 / (t1 - t0) for n in b if n in a}


def migrate(src: Any, dst: Any, name: str, migration_uri: str) -> float:
    """Live-migrate name from src to dst as the engine would (managed, direct); seconds taken."""
    dom = src.lookupByName(name)
    params = {
        libvirt.VIR_MIGRATE_PARAM_URI: migration_uri,
        libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: "127.0.0.1",
    }
    t0 = time.monotonic()
    dom.migrate3(dst, params, MIGRATE_FLAGS)
    return time.monotonic() - t0


def names(conn: Any) -> set[str]:
    return {d.name() for d in conn.listAllDomains()}


def running(conn: Any) -> set[str]:
    return {d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}


def wait_uptime_after(log: Path, after: float, timeout: float = 30.0) -> float:
    """Wait until the guest logs an uptime greater than after; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ups = guestinit.uptimes(log.read_text(errors="replace"))
        if ups and ups[-1] > after:
            return ups[-1]
        time.sleep(0.2)
    raise TimeoutError(f"{log}: no uptime after {after} within {timeout} s")
