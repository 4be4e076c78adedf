"""Where a VM that runs nowhere starts: filters, then free memory first; the reason says why."""

from __future__ import annotations

from ovtui.model import VM, Cluster, Host, HostState, Snapshot, VmState
from policies.new_vm import choose_host
from policies.params import Params


def _host(name: str, memory: int, state: HostState = HostState.UP, **kw: object) -> Host:
    return Host(name, "c1", "dc1", "test:///", state, cpus=8, memory_mib=memory,
                cpu_model="Sky", cpu_usage=0.1, **kw)  # type: ignore[arg-type]  # fmt: skip


def _vm(name: str, host: str, memory: int = 1024, **kw: object) -> VM:
    return VM(f"u-{name}", name, host, "c1", "dc1", VmState.RUNNING, 1, memory, 0.1, **kw)  # type: ignore[arg-type]


def _snap(hosts: list[Host], vms: list[VM]) -> Snapshot:
    return Snapshot(
        0.0, clusters=(Cluster("c1", "dc1", "Sky"),), hosts=tuple(hosts), vms=tuple(vms)
    )


NEW = VM("u-new", "new", "", "c1", "dc1", VmState.SHUTOFF, 1, 2048)


def test_the_most_free_memory_among_the_hosts_that_pass() -> None:
    snap = _snap(
        [_host("h1", 8192), _host("h2", 8192), _host("h3", 8192, HostState.MAINTENANCE)],
        [_vm("a", "h1", 4096), _vm("b", "h2", 1024)],
    )
    choice = choose_host(snap, NEW, Params())
    assert choice.host == "h2"
    assert choice.reason.startswith("h2: the most free memory")
    assert "among 2 hosts that pass the filters" in choice.reason
    assert choice.passed == ("h1", "h2") and choice.refused[0][0] == "h3"


def test_no_host_fits_names_each_refusal() -> None:
    snap = _snap([_host("h1", 2048)], [_vm("a", "h1", 1024)])
    choice = choose_host(snap, NEW, Params())
    assert choice.host is None and "new needs 2 GiB, h1 has 1 GiB left" in choice.reason


def test_storage_the_host_cannot_reach_refuses_it() -> None:
    snap = _snap([_host("h1", 8192, storage_domains=frozenset({"san"})), _host("h2", 16384)], [])
    vm = VM("u", "db", "", "c1", "dc1", VmState.SHUTOFF, 1, 512, storage_domains=("san",))
    choice = choose_host(snap, vm, Params())
    assert choice.host == "h1" and "the only host that passes" in choice.reason
    assert "h2 cannot reach storage domain san" in choice.refused[0][1]


def test_a_pinned_vm_still_gets_a_first_host_and_a_named_host_must_pass() -> None:
    snap = _snap([_host("h1", 8192), _host("h2", 4096)], [])
    pinned = VM("u", "p", "", "c1", "dc1", VmState.SHUTOFF, 1, 512, pinned=True, migratable=False)
    assert choose_host(snap, pinned, Params()).host == "h1"
    asked = choose_host(snap, NEW, Params(), only="h2")
    assert asked.host == "h2" and "asked for" in asked.reason
    assert choose_host(snap, NEW, Params(), only="h9").reason == "host h9 is not in cluster c1"


def test_a_down_vm_defined_on_a_host_is_not_counted_there() -> None:
    snap = _snap([_host("h1", 4096), _host("h2", 4096)], [_vm("x", "h1", 3072)])
    down = VM("u-x", "x", "h1", "c1", "dc1", VmState.SHUTOFF, 1, 3072)
    choice = choose_host(snap, down, Params())
    assert choice.host in ("h1", "h2") and "h1" in choice.passed
