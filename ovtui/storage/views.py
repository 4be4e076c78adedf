"""A storage domain as the API shows it: its config, one reading per host, and a summary."""

from __future__ import annotations

from typing import Any

from ovtui.config.storage_schema import TYPE_KEYS, StorageDomainConfig
from ovtui.storage.model import PoolReading
from ovtui.storage.pool_xml import LIBVIRT_TYPE, pool_name


def overall_state(readings: list[PoolReading]) -> str:
    """active: every host has it active; unavailable: none has; degraded: some have."""
    active = sum(1 for r in readings if r.usable)
    if readings and active == len(readings):
        return "active"
    return "degraded" if active else "unavailable"


def summary(readings: list[PoolReading]) -> PoolReading | None:
    """The freshest active reading: for a shared domain every host sees the same space."""
    active = [r for r in readings if r.usable]
    return max(active, key=lambda r: r.read_at or 0.0) if active else None


def domain_view(sd: StorageDomainConfig, readings: list[PoolReading]) -> dict[str, Any]:
    best = summary(readings)
    return {
        "name": sd.name,
        "datacenter": sd.datacenter,
        "type": sd.type,
        "shared": sd.shared,
        "pool": pool_name(sd.name),
        "pool_type": LIBVIRT_TYPE[sd.type],
        "params": {k: str(v) for k in TYPE_KEYS if (v := getattr(sd, k)) is not None},
        "state": overall_state(readings),
        "capacity_bytes": best.capacity if best else None,
        "allocation_bytes": best.allocation if best else None,
        "available_bytes": best.available if best else None,
        "hosts": [r.as_dict() for r in readings],
    }
