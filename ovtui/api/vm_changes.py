"""Which VMs changed since a revision: what lets GET /api/v1/vms?since= send only those.

A dashboard on 20 000 VMs would otherwise fetch and parse ~10 MB of JSON to learn that a few
VMs moved. Each published snapshot the route sees becomes a revision (a counter); the tracker
keeps, per VM UUID, the revision at which what the list shows of it last changed, and a log of
VMs that left a scope (removed, or moved to another host, cluster or data center) with the
scopes they left, for HISTORY revisions. Snapshots are compared only when one is asked for,
and VM objects of hosts not read again are the same objects, so a comparison is mostly `is`.

The revision handed to a client is opaque: `<epoch>.<counter>.<grants digest>`. The epoch is
drawn when the engine starts (a revision of an earlier engine gets the full list); the digest
is of the caller's roles and grants, so a caller whose grants changed gets the full list too
(what they may read changed with them). Removals are listed only to callers who could read
the VM where it was: a VM of someone else's cluster stays invisible, removed or not.
"""

from __future__ import annotations

import hashlib
import operator
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Literal

from auth.principal import ObjectRef, Principal
from ovtui.model import VM, Snapshot

HISTORY = 256  # revisions answerable (one per published snapshot that was asked about)
START = "start"  # the revision a client without one sends: the full list and a revision
Precision = Literal["exact", "percent"]  # what counts as a change (see the module's doc)
EXACT: Precision = "exact"
PERCENT: Precision = "percent"


class BadRevision(ValueError):
    """A revision this engine never handed out, or not a revision at all."""


@dataclass(frozen=True, slots=True)
class Changes:
    revision: str
    full: bool  # True: `vms` is every VM the caller may read, `removed` is empty
    vms: tuple[VM, ...]
    removed: tuple[str, ...]  # UUIDs


def _shown(vm: VM) -> tuple[object, ...]:
    # What the list serialises: VM equality leaves storage_domains out (and devices, which the
    # list does not show either).
    return (vm, vm.storage_domains)


# Every field VM equality compares, but cpu_usage (compared at whole percents under PERCENT).
_OTHER_FIELDS = operator.attrgetter(
    *(f.name for f in fields(VM) if f.compare and f.name != "cpu_usage")
)


def whole_percent(fraction: float | None) -> int | None:
    """cpu_usage as a dashboard shows it: the nearest whole percent, halves to even (Python's
    round and format alike)."""
    return None if fraction is None else round(fraction * 100)


def _same_at_percent(was: tuple[VM, ...], now: tuple[VM, ...]) -> bool:
    return len(was) == len(now) and all(
        a is b
        or (
            whole_percent(a.cpu_usage) == whole_percent(b.cpu_usage)
            and _OTHER_FIELDS(a) == _OTHER_FIELDS(b)
            and a.storage_domains == b.storage_domains
        )
        for a, b in zip(was, now, strict=True)
    )


def _refs(copies: Iterable[VM]) -> frozenset[ObjectRef]:
    return frozenset(ObjectRef("vm", v.name, v.datacenter, v.cluster, v.host) for v in copies)


def grants_digest(principal: Principal, precision: Precision = EXACT) -> str:
    """Of the caller's roles and grants, and of the precision when not exact: a revision
    handed out at one precision gets the full list at the other (what a PERCENT client holds
    may be a few readings old, which an exact answer from its revision would not correct)."""
    lines = sorted(principal.roles) + sorted(str(g) for g in principal.grants)
    if precision != EXACT:
        lines.append(f"precision={precision}")
    return hashlib.blake2b("\n".join(lines).encode(), digest_size=6).hexdigest()


class VmChanges:
    def __init__(self) -> None:
        self.epoch = secrets.token_hex(4)
        self.counter = 0
        self._snapshot: Snapshot | None = None
        self._copies: dict[str, tuple[VM, ...]] = {}  # UUID -> its copies (one, but for races)
        self._changed_at: dict[str, int] = {}  # UUID -> revision it last changed at
        # PERCENT: UUID -> revision it last changed at, at that precision, and its copies then.
        self._percent_changed_at: dict[str, int] = {}
        self._reference: dict[str, tuple[VM, ...]] = {}
        self._left: list[tuple[int, str, frozenset[ObjectRef]]] = []  # (revision, UUID, scopes)

    def observe(self, snap: Snapshot) -> None:
        """Take `snap` as the current revision (a no-op for the snapshot seen last)."""
        if snap is self._snapshot:
            return
        copies: dict[str, tuple[VM, ...]] = {}
        for vm in snap.vms:
            copies[vm.uuid] = (*copies[vm.uuid], vm) if vm.uuid in copies else (vm,)
        self.counter += 1
        rev, old = self.counter, self._copies
        reference = self._reference
        for uuid, now in copies.items():
            was = old.get(uuid)
            if was is None:
                self._changed_at[uuid] = self._percent_changed_at[uuid] = rev
                reference[uuid] = now
            elif was is not now and [_shown(v) for v in was] != [_shown(v) for v in now]:
                self._changed_at[uuid] = rev
                if _refs(was) != _refs(now):
                    self._left.append((rev, uuid, _refs(was)))
                if not _same_at_percent(reference[uuid], now):
                    self._percent_changed_at[uuid] = rev
                    reference[uuid] = now
        for uuid in old.keys() - copies.keys():
            self._left.append((rev, uuid, _refs(old[uuid])))
            del self._changed_at[uuid], self._percent_changed_at[uuid], reference[uuid]
        oldest = rev - HISTORY
        if self._left and self._left[0][0] <= oldest:
            self._left = [entry for entry in self._left if entry[0] > oldest]
        self._snapshot, self._copies = snap, copies

    def revision(self, principal: Principal, precision: Precision = EXACT) -> str:
        return f"{self.epoch}.{self.counter}.{grants_digest(principal, precision)}"

    def since(
        self,
        revision: str,
        principal: Principal,
        readable: Callable[[ObjectRef], bool],
        mine: Callable[[Iterable[VM]], Iterable[VM]],
        precision: Precision = EXACT,
    ) -> Changes:
        """What changed for `principal` since `revision` (observe the snapshot first), at
        `precision`. `mine`: the VMs of a list the principal may read; `readable`: one scope."""
        assert self._snapshot is not None, "observe a snapshot first"
        counter = self._parse(revision, principal, precision)
        current = self.revision(principal, precision)
        if counter is None:
            return Changes(current, True, tuple(mine(self._snapshot.vms)), ())
        changed = self._changed_at if precision == EXACT else self._percent_changed_at
        vms = tuple(mine(v for v in self._snapshot.vms if changed[v.uuid] > counter))
        left = {u for rev, u, refs in self._left if rev > counter and any(map(readable, refs))}
        if left:  # still listed where the caller reads it (moved within their scope): not gone
            left -= {v.uuid for v in mine(v for v in self._snapshot.vms if v.uuid in left)}
        return Changes(current, False, vms, tuple(sorted(left)))

    def _parse(self, revision: str, principal: Principal, precision: Precision) -> int | None:
        """The counter to answer from; None: answer with the full list."""
        if revision == START:
            return None
        epoch, _, rest = revision.partition(".")
        text, _, digest = rest.partition(".")
        if not (epoch and text.isdigit() and digest):
            raise BadRevision(
                f"since={revision!r} is not a revision: send the 'revision' of the last answer "
                f"to GET /api/v1/vms?since=..., or since={START} for the full list and one"
            )
        counter = int(text)
        if epoch != self.epoch or digest != grants_digest(principal, precision):
            return None  # an earlier engine's, the caller's grants changed, another precision
        if counter > self.counter:
            raise BadRevision(
                f"since={revision!r} is ahead of this engine's revision {self.counter}: send "
                f"the 'revision' of the last answer, or since={START} for the full list"
            )
        if counter < self.counter - HISTORY:
            return None  # too old to answer from
        return counter
