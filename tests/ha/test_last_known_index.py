"""The last known HA flags of pending VMs come from an index of the HA state's host records,
built once per change of that state, not from a scan of every host's record for each VM
(ovtui/ha/last_known.py): the fleet asks for each pending VM at every rebuild of its host."""

from __future__ import annotations

from typing import Any

from ovtui.ha.last_known import LastKnown
from ovtui.ha.model import HaState, HostRecord


class _CountedHosts(dict[str, HostRecord]):
    """Counts the scans of the host records."""

    scans = 0

    def values(self) -> Any:
        type(self).scans += 1
        return super().values()


def _state(hosts: int, vms: int) -> HaState:
    st = HaState()
    st.hosts = _CountedHosts()
    for h in range(hosts):
        rec = st.host(f"h{h}")
        rec.running = {f"u{h}-{v}": [f"vm{h}-{v}", v % 2 == 0, v] for v in range(vms)}
    return st


def test_pending_flags_scan_the_host_records_once_per_change() -> None:
    st, known = _state(50, 4), LastKnown({"stored": "<domain><name>s</name></domain>"})
    _CountedHosts.scans = 0
    answers = {f"u{h}-{v}": known.of(f"u{h}-{v}", st) for h in range(50) for v in range(4)}
    assert _CountedHosts.scans == 1  # 200 VMs asked for, one scan
    assert answers == {f"u{h}-{v}": (v % 2 == 0, v) for h in range(50) for v in range(4)}
    assert known.of("stored", st) == (False, 0) and known.of("never", st) is None
    # The state changes (a tick saw h0 run other VMs, one moved to h1): told, it is indexed again.
    st.hosts["h0"].running = {"new": ["new", True, 7]}
    st.hosts["h1"].running["u0-1"] = ["vm0-1", True, 3]
    known.changed()
    assert known.of("new", st) == (True, 7) and known.of("u0-1", st) == (True, 3)
    assert known.of("u0-0", st) is None
    assert _CountedHosts.scans == 2


def test_the_first_host_that_records_a_vm_wins_as_in_a_scan() -> None:
    st = _state(3, 0)
    st.hosts["h0"].running = {"x": ["x", False, 1]}
    st.hosts["h2"].running = {"x": ["x", True, 9]}
    assert LastKnown({}).of("x", st) == (False, 1)
