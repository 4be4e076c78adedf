"""read_host_stats: NOWAIT with a fallback, optional node calls remembered, test driver honest."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from collectors.bulk_stats import BULK, KSM, NODE_CPU, NODE_MEMORY, NOWAIT, read_host_stats
from ovtui.testdriver_fleet import host_uri, synthetic_spec, write_nodes
from tests.metrics.fakes import FakeConn


def _error(code: int, message: str = "refused") -> libvirt.libvirtError:
    err = libvirt.libvirtError(message)
    err.err = (code, 0, message, 0, "", None, None, 0, 0)
    return err


class OldLibvirt(FakeConn):
    """A daemon older than NOWAIT (libvirt < 4.5) and without KSM parameters."""

    def getAllDomainStats(self, stats: int, flags: int):
        if flags & NOWAIT:
            self.bulk_flags.append(flags)
            raise _error(libvirt.VIR_ERR_INVALID_ARG, "unsupported flags (0x20000000)")
        return super().getAllDomainStats(stats, flags)

    def getMemoryParameters(self, _flags: int):
        raise _error(libvirt.VIR_ERR_NO_SUPPORT)


def test_bulk_call_uses_nowait_and_reads_the_node_counters() -> None:
    conn = FakeConn({"uuid-a": {"state.state": 1}}, ksm={"shm_pages_sharing": 5})
    got = read_host_stats(conn)
    assert conn.bulk_flags == [NOWAIT] and got.nowait
    assert [d.uuid for d in got.domains] == ["uuid-a"]
    assert got.node_cpu_ns and got.node_memory_kib and got.ksm == {"shm_pages_sharing": 5}
    assert got.unsupported == frozenset()


def test_a_driver_refusing_nowait_is_asked_again_without_it_and_remembered() -> None:
    conn = OldLibvirt({"uuid-a": {"state.state": 1}})
    got = read_host_stats(conn)
    assert conn.bulk_flags == [NOWAIT, 0] and not got.nowait and len(got.domains) == 1
    assert got.unsupported == {KSM}
    again = read_host_stats(conn, nowait=got.nowait, skip=got.unsupported)
    assert conn.bulk_flags == [NOWAIT, 0, 0] and again.ksm is None


def test_a_failing_bulk_call_raises_but_a_failing_optional_call_is_reported() -> None:
    class Flaky(FakeConn):
        def getMemoryStats(self, _cell: int, _flags: int):
            raise _error(libvirt.VIR_ERR_INTERNAL_ERROR, "cannot read /proc/meminfo")

    got = read_host_stats(Flaky())
    assert got.node_memory_kib is None and got.errors == (
        (NODE_MEMORY, "cannot read /proc/meminfo"),
    )
    assert NODE_MEMORY not in got.unsupported  # a real error: asked again next time

    class Broken(FakeConn):
        def getAllDomainStats(self, _stats: int, _flags: int):
            raise _error(libvirt.VIR_ERR_INTERNAL_ERROR, "job lock")

    with pytest.raises(libvirt.libvirtError):
        read_host_stats(Broken())


def test_on_the_test_driver_stats_are_state_only_and_node_cpu_is_not_read(tmp_path: Path) -> None:
    spec = synthetic_spec(1, 4, clusters=1, seed=3)
    path = write_nodes(spec, tmp_path)[spec.hosts[0].name]
    conn = libvirt.open(host_uri(path))
    try:
        got = read_host_stats(conn, driver=conn.getType())
    finally:
        conn.close()
    assert len(got.domains) == 4
    assert all(set(d.values) <= {"state.state", "state.reason"} for d in got.domains)
    # the test driver's node CPU counters are constants, not measurements: never exported
    assert got.node_cpu_ns is None and NODE_CPU in got.unsupported
    assert got.node_memory_kib is None and {NODE_MEMORY, KSM} <= got.unsupported
    assert BULK not in got.unsupported


def test_each_domain_handle_is_asked_its_uuid_only() -> None:
    """Every libvirt call lets go of the GIL, and a host thread of a 500-host cold scrape waits
    behind hundreds of others to get it back: one getter per domain, not two."""
    asked: list[str] = []

    class Dom:
        def __init__(self, uuid: str) -> None:
            self.uuid = uuid

        def __getattr__(self, name: str):
            asked.append(name)
            return lambda: self.uuid

    class Conn(FakeConn):
        def getAllDomainStats(self, _stats: int, flags: int):
            return [(Dom(u), dict(v)) for u, v in self.records.items()]

    got = read_host_stats(Conn({"uuid-a": {"state.state": 1}, "uuid-b": {"state.state": 5}}))
    assert [d.uuid for d in got.domains] == ["uuid-a", "uuid-b"]
    assert asked == ["UUIDString", "UUIDString"]
