"""A disk move, as persisted stage by stage in the engine's store. Pure: no libvirt, no I/O.

Live (the VM runs):  new -> target_created -> copying -> ready -> pivoted -> definition_updated
                     -> source_deleted (done)
Cold (shut off):     new -> copying -> ready -> definition_updated -> source_deleted (done)
Cold to an iSCSI LUN (helper): new -> target_created -> copying -> ready -> definition_updated
                     -> source_deleted (done). No pool can make a volume on a LUN from a file,
                     so a paused helper domain on the VM's host (never the VM itself) mirrors
                     the disk onto the LUN with blockCopy; see move_helper.py.
Before `pivoted` every failure is undone: the copy is cancelled, a target ovtui created is
deleted, and the VM keeps running on its source (stage `failed`). From `pivoted` on the VM runs
on the target, so the move only goes forward: a failure there is kept in `error` and the next
engine start retries the remaining stages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

LIVE_STAGES = (
    "new",
    "target_created",
    "copying",
    "ready",
    "pivoted",
    "definition_updated",
    "source_deleted",
)
COLD_STAGES = ("new", "copying", "ready", "definition_updated", "source_deleted")
HELPER_STAGES = (
    "new",
    "target_created",
    "copying",
    "ready",
    "definition_updated",
    "source_deleted",
)
DONE = "source_deleted"
FAILED = "failed"
CLEANING = "cleaning"
POINT_OF_NO_RETURN = "pivoted"  # live; for cold moves, "definition_updated"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a move: a volume in a storage domain."""

    domain: str
    volume: str
    path: str = ""  # filled in once known (the target's, after it is created)
    format: str = "qcow2"

    def ref(self, pool: str) -> str:
        return f"{pool}/{self.volume}"


@dataclass(frozen=True, slots=True)
class DiskMove:
    id: str
    vm: str
    vm_uuid: str
    host: str
    target_dev: str  # the guest device: vdb
    live: bool
    source: Endpoint
    dest: Endpoint
    capacity: int  # bytes
    stage: str = "new"
    target_created: bool = False  # ovtui made the target volume (and so removes it on failure)
    bytes_done: int = 0
    bytes_total: int = 0
    error: str = ""
    actor: str = ""
    bandwidth: int = 0  # bytes/s the copy may use; 0: as fast as it goes
    helper: bool = False  # cold, copied by a paused helper domain (to an iSCSI LUN)
    started_at: float = 0.0
    finished_at: float | None = None
    history: tuple[tuple[str, float], ...] = field(default_factory=tuple)  # (stage, unix time)

    @property
    def stages(self) -> tuple[str, ...]:
        if self.live:
            return LIVE_STAGES
        return HELPER_STAGES if self.helper else COLD_STAGES

    @property
    def finished(self) -> bool:
        return self.stage in (DONE, FAILED)

    @property
    def past_return(self) -> bool:
        """The VM uses the target now: the move can only go forward."""
        if self.stage in (FAILED, CLEANING):
            return False
        mark = POINT_OF_NO_RETURN if self.live else "definition_updated"
        return self.stages.index(self.stage) >= self.stages.index(mark)

    @property
    def holds_vm(self) -> bool:
        """The move still needs its VM as it was copied: unfinished and its definition not yet
        naming the target (or being undone). Once it does, only the source's removal is left,
        which the VM does not notice (ovtui/engine/move_guard.py)."""
        if self.finished:
            return False
        if self.stage not in self.stages:  # cleaning: the copy is being undone
            return True
        return self.stages.index(self.stage) < self.stages.index("definition_updated")

    def next_stage(self) -> str:
        return self.stages[self.stages.index(self.stage) + 1]

    def at(self, stage: str, when: float, **changes: Any) -> DiskMove:
        return replace(self, stage=stage, history=(*self.history, (stage, when)), **changes)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["history"] = [list(h) for h in self.history]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiskMove:
        data = dict(data)
        data["source"] = Endpoint(**data["source"])
        data["dest"] = Endpoint(**data["dest"])
        data["history"] = tuple((s, float(t)) for s, t in data.get("history", ()))
        return cls(**data)
