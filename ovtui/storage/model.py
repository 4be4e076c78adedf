"""What the engine knows of a storage domain on one host, as the API and exporter show it."""

from __future__ import annotations

from dataclasses import dataclass

# libvirt's virStoragePoolState, by value.
POOL_STATES = {0: "inactive", 1: "building", 2: "active", 3: "degraded", 4: "inaccessible"}


@dataclass(frozen=True, slots=True)
class VolumeInfo:
    """One volume of a pool, as libvirt reports it (allocation: bytes really used on disk)."""

    name: str
    path: str
    capacity: int
    allocation: int


@dataclass(frozen=True, slots=True)
class PoolReading:
    """One domain's pool on one host. state: a POOL_STATES value, or `error` (realising or
    reading it failed: `error` says why) or `unknown` (the host cannot be asked: `error` says
    why). Sizes in bytes, as libvirt last reported them (0 before the first reading)."""

    domain: str
    host: str
    state: str
    capacity: int = 0
    allocation: int = 0
    available: int = 0
    error: str = ""
    read_at: float | None = None  # unix time of the reading the sizes come from
    volumes: tuple[VolumeInfo, ...] = ()

    @property
    def usable(self) -> bool:
        return self.state == "active"

    def as_dict(self) -> dict[str, object]:
        return {
            "host": self.host,
            "state": self.state,
            "capacity_bytes": self.capacity,
            "allocation_bytes": self.allocation,
            "available_bytes": self.available,
            "error": self.error,
            "read_at": self.read_at,
        }
