"""VmChanges at precision=percent: a change counted at the whole percent a dashboard shows.

Pure: the tracker is fed snapshots directly (the route and RBAC are in test_vm_changes.py).
"""

from __future__ import annotations

import dataclasses

from auth.principal import Principal
from ovtui.api.vm_changes import EXACT, PERCENT, VmChanges, whole_percent
from ovtui.model import VM, Snapshot, VmState
from ovtui.tui import fmt

ADMIN = Principal("admin", frozenset({"SuperUser"}))


def _vm(name: str, usage: float | None) -> VM:
    return VM(f"u-{name}", name, "h1", "c1", "dc1", VmState.RUNNING, 1, 512, usage)


class Follower:
    """A client that applies every answer to what it keeps, as the dashboard's poller does."""

    def __init__(self, tracker: VmChanges, precision: str) -> None:
        self.tracker, self.precision = tracker, precision
        self.revision = "start"
        self.kept: dict[str, VM] = {}
        self.sent: list[int] = []  # VMs in each answer

    def read(self, snap: Snapshot) -> None:
        self.tracker.observe(snap)
        got = self.tracker.since(
            self.revision,
            ADMIN,
            lambda ref: True,
            lambda vms: vms,
            self.precision,  # type: ignore[arg-type]
        )
        if got.full:
            self.kept = {}
        self.kept.update((v.uuid, v) for v in got.vms)
        self.revision = got.revision
        self.sent.append(len(got.vms))


def _readings(steps: int, vms: int) -> list[Snapshot]:
    """Every VM's CPU moves a little at each reading (0.3 points), as synthetic load does."""
    return [
        Snapshot(float(t), vms=tuple(_vm(f"v{i}", (0.1 + 0.007 * i + 0.003 * t) % 1)
                                     for i in range(vms)))
        for t in range(steps)
    ]  # fmt: skip


def test_figures_moving_within_their_percent_are_not_sent_and_drift_is_never_stale() -> None:
    tracker = VmChanges()
    exact, percent = Follower(tracker, EXACT), Follower(tracker, PERCENT)
    for snap in _readings(60, 50):
        exact.read(snap)
        percent.read(snap)
        now = {v.uuid: v for v in snap.vms}
        assert exact.kept == now
        # At whole percents what the client holds is what it would show now, at every reading:
        # a slow drift (0.3 points a reading) is sent once its whole percent differs.
        assert {u: whole_percent(v.cpu_usage) for u, v in percent.kept.items()} == {
            u: whole_percent(v.cpu_usage) for u, v in now.items()
        }
        held = {u: v.cpu_usage for u, v in percent.kept.items()}
        assert all(abs(held[u] - v.cpu_usage) < 0.01 for u, v in now.items())  # type: ignore[operator]
    assert exact.sent[1:] == [50] * 59  # every VM, at every reading
    assert sum(percent.sent[1:]) < sum(exact.sent[1:]) / 2  # ~0.3 of them on average


def test_a_change_outside_cpu_is_sent_at_once_and_figures_stay_exact() -> None:
    tracker = VmChanges()
    client = Follower(tracker, PERCENT)
    a = _vm("a", 0.421)
    client.read(Snapshot(0.0, vms=(a,)))
    client.read(Snapshot(1.0, vms=(dataclasses.replace(a, cpu_usage=0.424),)))
    assert client.sent == [1, 0]
    stopped = dataclasses.replace(a, cpu_usage=0.424, state=VmState.SHUTOFF)
    client.read(Snapshot(2.0, vms=(stopped,)))
    assert client.sent[-1] == 1 and client.kept["u-a"] == stopped  # exact, not rounded
    disks = dataclasses.replace(stopped, storage_domains=("sd1",))
    client.read(Snapshot(3.0, vms=(disks,)))
    assert client.sent[-1] == 1 and client.kept["u-a"].storage_domains == ("sd1",)


def test_a_revision_of_one_precision_gets_the_full_list_at_the_other() -> None:
    tracker = VmChanges()
    snap = Snapshot(0.0, vms=(_vm("a", 0.1), _vm("b", 0.2)))
    tracker.observe(snap)
    exact = tracker.since("start", ADMIN, lambda ref: True, lambda vms: vms, EXACT)
    percent = tracker.since("start", ADMIN, lambda ref: True, lambda vms: vms, PERCENT)
    assert exact.revision != percent.revision
    assert tracker.since(exact.revision, ADMIN, lambda r: True, lambda v: v, PERCENT).full
    assert tracker.since(percent.revision, ADMIN, lambda r: True, lambda v: v, EXACT).full
    assert not tracker.since(percent.revision, ADMIN, lambda r: True, lambda v: v, PERCENT).full


def test_whole_percent_is_what_the_dashboard_shows() -> None:
    for usage in [i / 2000 for i in range(2001)] + [0.125, 0.135, 0.145, 0.285, None]:
        cell = str(fmt.percent(usage, False)).strip()
        assert cell == ("-" if usage is None else f"{whole_percent(usage)}%"), usage
