"""One bulk action: the VMs, where each one stands, and the summary at the end (no terminal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ovtui.tui.fmt import vm_count as plural
from ovtui.tui.rows import VmRow
from ovtui.tui.vm_actions import ACTIONS, Outcome, resolve

SHOWN_FAILURES = 5  # in the summary; the progress screen lists every one


@dataclass
class BulkItem:
    vm: VmRow
    action: str  # resolved: "pause" became suspend or resume for this VM
    running: bool = False
    outcome: Outcome | None = None

    @property
    def status(self) -> str:
        if self.outcome is not None:
            return ("✓ " if self.outcome.ok else "✗ ") + self.outcome.text
        return f"⟳ {ACTIONS[self.action].doing}…" if self.running else "waiting"


@dataclass
class BulkJob:
    action: str  # as asked: may be "pause"
    items: list[BulkItem]
    listeners: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def of(cls, vms: list[VmRow], action: str) -> BulkJob:
        return cls(action, [BulkItem(vm, resolve(vm, action)) for vm in vms])

    @property
    def verb(self) -> str:
        return "suspend/resume" if self.action == "pause" else ACTIONS[self.action].verb

    @property
    def ok(self) -> list[BulkItem]:
        return [i for i in self.items if i.outcome is not None and i.outcome.ok]

    @property
    def failed(self) -> list[BulkItem]:
        return [i for i in self.items if i.outcome is not None and not i.outcome.ok]

    @property
    def done(self) -> bool:
        return all(i.outcome is not None for i in self.items)

    @property
    def progress(self) -> str:
        finished = len(self.ok) + len(self.failed)
        failed = f", {len(self.failed)} failed" if self.failed else ""
        return f"{self.verb} {plural(len(self.items))}: {finished} done{failed}"

    @property
    def summary(self) -> str:
        head = f"{self.verb}: {len(self.ok)} ok, {len(self.failed)} failed"
        reasons = [f"{i.vm.name}: {i.outcome.text}" for i in self.failed if i.outcome]
        if len(reasons) > SHOWN_FAILURES:
            reasons = [*reasons[:SHOWN_FAILURES], f"… and {len(reasons) - SHOWN_FAILURES} more"]
        return "\n".join([head, *reasons])

    def changed(self) -> None:
        for listener in self.listeners:
            listener()


def question(vms: list[VmRow], action: str, skipped: int, shown: int = 8) -> str:
    """The one confirmation for the whole selection."""
    verb = "suspend/resume" if action == "pause" else ACTIONS[action].verb
    names = ", ".join(v.name for v in vms[:shown])
    more = f" and {len(vms) - shown} more" if len(vms) > shown else ""
    note = (
        f"\n({plural(skipped)} of the selection left out: not yours to {verb})" if skipped else ""
    )
    return f"{verb.capitalize()} {plural(len(vms))}?\n{names}{more}{note}"
