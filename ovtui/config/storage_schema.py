"""`[[storage_domains]]`: where disks live. One flat table per domain, its type's keys checked here.

Types, each exercised for real in the lab (tests/lab/test_storage_pools.py):
- shared_dir: a directory every host of the data center sees at the same path (in production an
  NFS, CephFS or GlusterFS mount the administrator made; ovtui does not mount it).
- local: a directory on exactly one host.
- fs: a block device holding a filesystem that libvirt formats (if blank) and mounts, on exactly
  one host (a non-cluster filesystem mounted twice is corrupted).
- iscsi: an iSCSI target reached from every host through libvirt's `iscsi-direct` pool (libiscsi,
  no kernel initiator); its LUNs are made on the target, not by ovtui.
FC and LVM are not modelled: this project's test machines cannot run them (no SCSI, no
device-mapper), and a type that is accepted but never exercised would be a promise nobody checked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The same rule as schema.Name (kept here so this file does not import schema, which imports it).
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
StorageType = Literal["shared_dir", "local", "fs", "iscsi"]
SHARED_TYPES = frozenset({"shared_dir", "iscsi"})  # seen by every host of the data center
# The keys each type needs and the ones it may have; any other type key is refused, not ignored.
REQUIRED: dict[str, tuple[str, ...]] = {
    "shared_dir": ("path",),
    "local": ("path",),
    "fs": ("path", "device"),
    "iscsi": ("portal", "target", "initiator"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {"fs": ("filesystem",)}
TYPE_KEYS = ("path", "device", "filesystem", "portal", "target", "initiator")
_IQN = re.compile(r"^iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:[^\s]+)?$")


class StorageDomainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    datacenter: Name
    type: StorageType
    # Hosts that must see it. Shared types: default every host of the data center (a subset may
    # be named); local and fs: exactly one host.
    hosts: list[Name] = Field(default_factory=list)
    path: Path | None = None  # shared_dir, local: the directory; fs: where it is mounted
    device: Path | None = None  # fs: the block device
    filesystem: Literal["ext4", "xfs"] | None = None  # fs: what libvirt formats a blank device as
    portal: str | None = None  # iscsi: HOST:PORT of the target
    target: str | None = None  # iscsi: the target's IQN
    initiator: str | None = None  # iscsi: this engine's initiator IQN (the target's ACL)
    refresh_seconds: Annotated[float, Field(ge=5, le=3600)] = 30.0

    @field_validator("path", "device")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_absolute():
            raise ValueError(f"{str(value)!r} must be an absolute path")
        return value

    @field_validator("portal")
    @classmethod
    def _portal(cls, value: str | None) -> str | None:
        if value is not None:
            host, sep, port = value.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
                raise ValueError(f"{value!r} is not HOST:PORT (for example 192.0.2.10:3260)")
        return value

    @field_validator("target", "initiator")
    @classmethod
    def _iqn(cls, value: str | None) -> str | None:
        if value is not None and not _IQN.match(value):
            raise ValueError(f"{value!r} is not an iSCSI name (iqn.YYYY-MM.reversed.domain:id)")
        return value

    @model_validator(mode="after")
    def _keys_of_type(self) -> StorageDomainConfig:
        needed = REQUIRED[self.type]
        allowed = set(needed) | set(OPTIONAL.get(self.type, ()))
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(f'type = "{self.type}" needs {" and ".join(missing)}')
        extra = [k for k in TYPE_KEYS if k not in allowed and getattr(self, k) is not None]
        if extra:
            what = ", ".join(extra)
            raise ValueError(
                f'{what} {"is" if len(extra) == 1 else "are"} not used by type = "{self.type}" '
                f"(its keys: {', '.join(sorted(allowed))}); remove {what}"
            )
        if self.type not in SHARED_TYPES and len(self.hosts) != 1:
            raise ValueError(
                f'type = "{self.type}" lives on exactly one host: give hosts = ["HOST"]'
                + (f" (got {len(self.hosts)})" if self.hosts else "")
            )
        return self

    @property
    def shared(self) -> bool:
        return self.type in SHARED_TYPES
