"""The lab's state file: what `up` started, so that `status`, `fail`, `heal` and `down` work from
any later process. Written atomically; every command holds an exclusive lock while it runs."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ovtui.lab.procs import ProcRef

STATE_VERSION = 1


@dataclass
class HostState:
    name: str
    index: int
    host_uuid: str
    migration_ports: tuple[int, int]
    uri: str
    migration_uri: str
    # "running" | "failed" (killed) | "hung" (frozen) | "stopped"
    status: str = "stopped"
    outer: ProcRef | None = None  # the `unshare` process we started
    init: ProcRef | None = None  # PID 1 of the host's PID namespace, seen from outside
    pid_ns: int | None = None  # inode of that namespace: every process of the host is in it

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outer"] = self.outer.to_json() if self.outer else None
        data["init"] = self.init.to_json() if self.init else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostState:
        data = dict(data)
        data["migration_ports"] = tuple(data["migration_ports"])
        for key in ("outer", "init"):
            data[key] = ProcRef.from_json(data[key]) if data.get(key) else None
        return cls(**data)


@dataclass
class LabState:
    image: dict[str, str] = field(default_factory=dict)  # kernel, initrd paths
    hosts: dict[str, HostState] = field(default_factory=dict)
    guests: dict[str, int] = field(default_factory=dict)  # guest name -> last requested load
    created_dirs: list[str] = field(default_factory=list)
    storage: dict[str, Any] = field(default_factory=dict)  # ovtui.lab.storage.LabStorage

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "image": self.image,
            "hosts": {n: h.to_json() for n, h in self.hosts.items()},
            "guests": self.guests,
            "created_dirs": self.created_dirs,
            "storage": self.storage,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabState:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"lab state version {data.get('version')!r} is not {STATE_VERSION}")
        return cls(
            image=dict(data.get("image", {})),
            hosts={n: HostState.from_json(h) for n, h in data.get("hosts", {}).items()},
            guests={str(k): int(v) for k, v in data.get("guests", {}).items()},
            created_dirs=list(data.get("created_dirs", [])),
            storage=dict(data.get("storage", {})),
        )


def load(path: Path) -> LabState:
    try:
        return LabState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return LabState()


def save(path: Path, state: LabState) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state.to_json(), f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """One lab command at a time (a second `up` while the first runs waits for it)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
