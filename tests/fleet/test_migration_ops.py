"""Moving VMs between test-driver hosts: offline, cold, and rollback when a step fails."""

from __future__ import annotations

from typing import Any

import libvirt
import pytest

from ovtui.fleet import migration_ops
from ovtui.testdriver_fleet import FleetSpec
from tests.fleet.conftest import fleet_config


@pytest.fixture
def two_hosts(small_spec: FleetSpec) -> Any:
    config = fleet_config(small_spec)
    src, dst = (libvirt.open(h.uri) for h in config.hosts[:2])
    yield small_spec.hosts[0], src, dst
    src.close()
    dst.close()


def _uuids(conn: libvirt.virConnect) -> set[str]:
    return {d.UUIDString() for d in conn.listAllDomains()}


def test_offline_move_of_a_shut_off_vm(two_hosts: Any) -> None:
    host, src, dst = two_hosts
    vm = host.vms[0]
    dom = src.lookupByUUIDString(vm.uuid)
    if dom.isActive():
        dom.destroy()
    migration_ops.offline(vm.uuid, dst)(src)
    assert vm.uuid not in _uuids(src)
    moved = dst.lookupByUUIDString(vm.uuid)
    assert moved.isPersistent() and not moved.isActive()


def test_cold_move_restarts_the_vm_on_the_target(two_hosts: Any) -> None:
    host, src, dst = two_hosts
    vm = next(v for v in host.vms if v.running)
    migration_ops.cold(vm.uuid, dst)(src)
    assert vm.uuid not in _uuids(src)
    moved = dst.lookupByUUIDString(vm.uuid)
    assert moved.isActive() and moved.isPersistent()


class _FailingStart:
    """A target whose defined domains refuse to start."""

    def __init__(self, conn: libvirt.virConnect) -> None:
        self._conn = conn

    def defineXML(self, xml: str) -> Any:
        dom = self._conn.defineXML(xml)

        class _Dom:
            def create(self) -> None:
                raise libvirt.libvirtError("simulated: not enough memory on target")

            def undefine(self) -> None:
                dom.undefine()

        return _Dom()


def test_cold_move_that_cannot_start_on_target_leaves_vm_running_where_it_was(
    two_hosts: Any,
) -> None:
    host, src, dst = two_hosts
    vm = next(v for v in host.vms if v.running)
    with pytest.raises(libvirt.libvirtError, match="simulated"):
        migration_ops.cold(vm.uuid, _FailingStart(dst))(src)  # type: ignore[arg-type]
    assert src.lookupByUUIDString(vm.uuid).isActive()
    assert vm.uuid not in _uuids(dst)


def test_live_migration_is_refused_by_the_test_driver(two_hosts: Any) -> None:
    # Why the fleet falls back to "cold" on this driver: it has no migration at all.
    host, src, dst = two_hosts
    vm = next(v for v in host.vms if v.running)
    with pytest.raises(libvirt.libvirtError) as info:
        migration_ops.live(vm.uuid, dst, None)(src)
    assert info.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
    assert src.lookupByUUIDString(vm.uuid).isActive()
