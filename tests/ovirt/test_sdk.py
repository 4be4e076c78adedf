"""The real, unmodified oVirt Python SDK (ovirt-engine-sdk-python 4.6) against ovtui's subset,
over TLS with a CA made by the test."""

from __future__ import annotations

import asyncio
import time

import pytest

sdk = pytest.importorskip("ovirtsdk4")
import ovirtsdk4.types as types  # noqa: E402

from ovtui.api.ovirt.ids import BLANK_TEMPLATE_ID, stable_id  # noqa: E402
from ovtui.api.ovirt.inflight import InFlight  # noqa: E402
from tests.ovirt.conftest import OvirtEngine  # noqa: E402


def _audit_since(engine: OvirtEngine, seq: int) -> list[dict]:
    return engine.live.engine.audit_log.read(since_seq=seq)


def test_lists_and_gets_speak_the_sdk(ovirt_engine: OvirtEngine) -> None:
    with ovirt_engine.connection() as conn:
        system = conn.system_service()
        assert system.get().special_objects.blank_template.id == BLANK_TEMPLATE_ID
        snap = ovirt_engine.live.engine.snapshot()
        vms = system.vms_service().list()
        assert sorted(v.name for v in vms) == sorted(v.name for v in snap.vms)
        by_name = {v.name: v for v in vms}
        assert by_name["off-1"].status == types.VmStatus.DOWN and by_name["off-1"].host is None
        web = by_name["web-1"]
        assert web.status == types.VmStatus.UP and web.memory == 4096 * 1024 * 1024
        assert web.high_availability.enabled is True
        assert conn.follow_link(web.host).name == "h1"
        assert conn.follow_link(web.cluster).name == "c1"
        assert conn.follow_link(web.template).name == "Blank"
        assert [h.name for h in system.hosts_service().list()] == ["h1", "h2", "h3"]
        [h1] = system.hosts_service().list(search="name=h1")
        assert h1.id == stable_id("host", "h1") and h1.status == types.HostStatus.UP
        assert h1.power_management.enabled is False and h1.spm is not None and h1.os is not None
        assert {c.name for c in system.clusters_service().list()} == {"c1", "c2"}
        dcs = system.data_centers_service().list()
        assert {d.name for d in dcs} == {"dc1", "dc2"}
        assert [t.name for t in system.templates_service().list()] == ["Blank"]
        # ovtui's storage is not served yet: empty, never invented
        assert system.storage_domains_service().list() == []
        assert system.disks_service().list() == []
        vm_service = system.vms_service().vm_service(web.id)
        assert vm_service.get().name == "web-1"
        assert vm_service.numa_nodes_service().list() == []
        [nic] = vm_service.nics_service().list()  # from the domain XML
        native = snap.vms_named("web-1")[0].devices
        assert native is not None and nic.mac.address == native.nics[0].mac
        assert nic.interface == types.NicInterface.VIRTIO and nic.name == "nic1"
        assert vm_service.nics_service().nic_service(nic.id).get().mac.address == nic.mac.address


def test_search_by_name_quoted_wildcard_and_case(ovirt_engine: OvirtEngine) -> None:
    with ovirt_engine.connection() as conn:
        vms = conn.system_service().vms_service()
        assert [v.name for v in vms.list(search='name="db-1"')] == ["db-1"]
        assert sorted(v.name for v in vms.list(search="name=web-*")) == ["web-1", "web-2"]
        assert vms.list(search="name=WEB-1", case_sensitive=True) == []
        assert [v.name for v in vms.list(search="name=WEB-1", case_sensitive=False)] == ["web-1"]
        assert [v.name for v in vms.list(search="cluster=c2 and status=up")] == ["other-1"]
        assert len(vms.list(max=2)) == 2
        with pytest.raises(sdk.Error, match=r"unsupported search term 'memory>5'.*400"):
            vms.list(search="memory>5")
        with pytest.raises(sdk.Error, match=r"unsupported search field 'tag'"):
            vms.list(search="tag=prod")


def test_unknown_objects_are_not_found_faults(ovirt_engine: OvirtEngine) -> None:
    with ovirt_engine.connection() as conn:
        system = conn.system_service()
        with pytest.raises(sdk.NotFoundError):
            system.vms_service().vm_service("no-such-vm").get()
        with pytest.raises(sdk.NotFoundError):
            system.hosts_service().host_service(stable_id("host", "gone")).get()
        with pytest.raises(sdk.NotFoundError):
            system.clusters_service().cluster_service("x").get()


def test_power_actions_and_migration_are_the_engines(ovirt_engine: OvirtEngine) -> None:
    live = ovirt_engine.live
    before = live.engine.audit_log.last_seq
    with ovirt_engine.connection() as conn:
        vms = conn.system_service().vms_service()
        [vm] = vms.list(search="name=web-2")
        service = vms.vm_service(vm.id)
        service.stop()
        assert service.get().status == types.VmStatus.DOWN
        service.start()
        assert service.get().status == types.VmStatus.UP
        service.migrate(host=types.Host(name="h2"))
        _wait(lambda: conn.follow_link(service.get().host).name == "h2")
        service.migrate()  # no host: the scheduler picks one (h1 is the only other in c1)
        _wait(lambda: conn.follow_link(service.get().host).name == "h1")
        with pytest.raises(sdk.Error, match="404"):
            service.migrate(host=types.Host(name="nowhere"))
    actions = [(r["action"], r["result"]) for r in _audit_since(ovirt_engine, before)]
    assert ("vm.poweroff", "ok") in actions and ("vm.start", "ok") in actions
    assert actions.count(("vm.migrate", "ok")) == 2
    assert live.engine.snapshot().vms_named("web-2")[0].host == "h1"


def _wait(done, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.2)


def test_transitional_states_while_an_action_runs(ovirt_engine: OvirtEngine) -> None:
    """A host evacuating is preparing_for_maintenance, a VM moving is migrating, answered while
    the work goes on (here a work item the test holds open)."""
    live = ovirt_engine.live
    flights = _inflight(ovirt_engine)
    release = asyncio.Event()
    vm = live.engine.snapshot().vms_named("db-1")[0]

    async def hold() -> None:
        await release.wait()

    async def begin() -> None:
        await flights.run("host", "h3", "preparing_for_maintenance", hold())
        await flights.run("vm", vm.uuid, "migrating", hold())

    live.run(begin())
    try:
        with ovirt_engine.connection() as conn:
            system = conn.system_service()
            [h3] = system.hosts_service().list(search="name=h3")
            assert h3.status == types.HostStatus.PREPARING_FOR_MAINTENANCE
            assert system.vms_service().vm_service(vm.uuid).get().status == types.VmStatus.MIGRATING
            migrating = system.vms_service().list(search="status=migrating")
            assert sorted(v.name for v in migrating) == ["db-1", "other-1"]  # other-1: on h3
            assert h3.summary.migrating == 1
    finally:
        live.loop.call_soon_threadsafe(release.set)
    _wait(lambda: flights.status("host", "h3") is None)


def _inflight(engine: OvirtEngine) -> InFlight:
    return InFlight.of(engine.live.engine)


def test_host_deactivate_answers_at_once_and_finishes(ovirt_engine: OvirtEngine) -> None:
    live = ovirt_engine.live
    with ovirt_engine.connection() as conn:
        hosts = conn.system_service().hosts_service()
        [h2] = hosts.list(search="name=h2")
        service = hosts.host_service(h2.id)
        service.deactivate()
        _wait(lambda: service.get().status == types.HostStatus.MAINTENANCE)
        assert live.engine.snapshot().vms_on("h2") == ()
        service.activate()
        assert service.get().status == types.HostStatus.UP
    done = [r["action"] for r in live.engine.audit_log.tail(20) if r["action"].startswith("host.")]
    assert done[-2:] == ["host.maintenance", "host.activate"]


def test_refusals_are_faults_and_audited(ovirt_engine: OvirtEngine) -> None:
    before = ovirt_engine.live.engine.audit_log.last_seq
    with ovirt_engine.connection("viewer@internal") as conn:
        vms = conn.system_service().vms_service()
        [vm] = vms.list(search="name=web-1")
        with pytest.raises(sdk.Error, match=r"viewer may not vm\.power.*403"):
            vms.vm_service(vm.id).stop()
    [denied] = [r for r in _audit_since(ovirt_engine, before) if r["result"] == "denied"]
    assert denied["actor"] == "viewer" and denied["action"] == "vm.power"
    assert ovirt_engine.live.engine.snapshot().vms_named("web-1")[0].state.value == "running"


def test_user_names_map_to_ovtui_sign_in(ovirt_engine: OvirtEngine) -> None:
    with ovirt_engine.connection("alice@corp") as conn:  # [api.ovirt] users: alice@corp = operator
        assert conn.system_service().get().authenticated_user.id == "operator"
    with pytest.raises(sdk.AuthError, match="unknown profile"):
        ovirt_engine.connection("admin@elsewhere").authenticate()
    with pytest.raises(sdk.AuthError, match="access_denied"):
        ovirt_engine.connection(password="wrong").authenticate()


def test_logout_revokes_the_token(ovirt_engine: OvirtEngine) -> None:
    conn = ovirt_engine.connection()
    token = conn.authenticate()
    assert ovirt_engine.live.engine.sessions.lookup(token) is not None
    conn.close(logout=True)
    assert ovirt_engine.live.engine.sessions.lookup(token) is None


def test_an_update_is_answered_only_when_it_changes_nothing(ovirt_engine: OvirtEngine) -> None:
    with ovirt_engine.connection() as conn:
        vms = conn.system_service().vms_service()
        [vm] = vms.list(search="name=web-1")
        service = vms.vm_service(vm.id)
        same = service.update(types.Vm(name="web-1", memory=vm.memory))
        assert same.name == "web-1"
        with pytest.raises(sdk.Error, match=r"cannot change web-1.*memory differs.*400"):
            service.update(types.Vm(memory=vm.memory * 2))
        with pytest.raises(sdk.Error, match=r"description differs"):
            service.update(types.Vm(description="renamed"))
    assert ovirt_engine.live.engine.snapshot().vms_named("web-1")[0].memory_mib == 4096


def test_what_an_action_cannot_honour_is_refused_by_name(ovirt_engine: OvirtEngine) -> None:
    with ovirt_engine.connection() as conn:
        vms = conn.system_service().vms_service()
        [vm] = vms.list(search="name=off-1")  # shut off, on h1
        service = vms.vm_service(vm.id)
        with pytest.raises(sdk.Error, match=r"start: use_cloud_init not supported.*400"):
            service.start(use_cloud_init=True)
        elsewhere = types.Vm(
            placement_policy=types.VmPlacementPolicy(hosts=[types.Host(name="h2")])
        )
        with pytest.raises(sdk.Error, match=r"off-1 is defined on h1.*400"):
            service.start(vm=elsewhere)
        with pytest.raises(sdk.NotFoundError, match=r"'cancelmigration' is not in this subset"):
            service.cancel_migration()
        assert service.get().status == types.VmStatus.DOWN  # nothing was started
