"""HA on the real lab: libvirtd hosts with QEMU guests and an ipmi_sim BMC per host.

Three hosts, four guests (vm1 and vm4 on h1, vm2 on h2, vm3 on h3). Each test starts its own
engine (a fresh store) on the lab's config with short guards (hatools.SHORT_GUARDS), leaves
every host running, and a sampler watches every host's QEMU processes throughout: no guest may
ever run on two hosts at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import libvirt
import pytest

from ovtui.lab import Lab, LabError
from tests.conftest import API, LiveEngine
from tests.lab.conftest import lab_up
from tests.lab.hatools import Sampler, ha_config, ha_status, qemus_by_guest, until, vm_where

pytestmark = pytest.mark.slow
DETECT = 30.0  # poll + call timeout + grace, with room for a slow shared machine
RECOVER = 90.0  # fence through the BMC (off ~3 s, status, on) + start, with room


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    yield from lab_up(hosts=3, guests=4, bmc=True)


def _engine(lab: Lab, **kw: object) -> LiveEngine:
    live = LiveEngine(ha_config(lab, **kw), wait_hosts=False)  # type: ignore[arg-type]
    live.run(live.engine.fleet.wait_connected(30), timeout=40)
    return live


def _ready(admin: httpx.Client, *ha_vms: str) -> None:
    def measured() -> bool:
        hosts = admin.get(f"{API}/hosts").json()
        return all(h["state"] == "up" and h["cpu_usage"] is not None for h in hosts)

    until(measured, 60, "every host up and measured")
    for name in ha_vms:
        resp = admin.put(f"{API}/vms/{name}/ha", json={"ha": True, "priority": 50})
        assert resp.status_code == 200, resp.text


def _heal_all(lab: Lab) -> None:
    """Every host running, every guest defined once and running (where it ended up)."""

    def connect(host: str) -> object:
        # the BMC's power-on (a detached `lab heal`) may still be starting libvirtd
        deadline = time.monotonic() + 60
        while True:
            if lab.status().host(host).status != "running":
                lab.heal(host)
            try:
                return lab.connect(host)
            except libvirt.libvirtError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    conns = {h: connect(h) for h in lab.host_names()}
    try:
        found: dict[str, list[tuple[str, object]]] = {}
        for host, conn in conns.items():
            for dom in conn.listAllDomains():
                found.setdefault(dom.name(), []).append((host, dom))
        for copies in found.values():
            copies.sort(key=lambda hd: not hd[1].isActive())  # type: ignore[attr-defined]
            for _host, dom in copies[1:]:
                if not dom.isActive():  # type: ignore[attr-defined]
                    dom.undefine()  # type: ignore[attr-defined]
            keep = copies[0][1]
            if not keep.isActive():  # type: ignore[attr-defined]
                keep.create()  # type: ignore[attr-defined]
    finally:
        for conn in conns.values():
            conn.close()


def _audit(live: LiveEngine, action: str) -> list[dict[str, object]]:
    return [r for r in live.engine.audit_log.tail(500) if r["action"] == action]


def test_a_killed_host_is_fenced_and_its_ha_vm_runs_elsewhere(lab: Lab) -> None:
    live = _engine(lab)
    try:
        admin = live.as_role("SuperUser")
        _ready(admin, "vm1")  # vm4 on h1 stays non-HA
        assert vm_where(admin, "vm1")["host"] == "h1" and vm_where(admin, "vm4")["host"] == "h1"
        with Sampler(lab) as sampler:
            t0 = time.monotonic()
            lab.fail("h1")  # its libvirtd and QEMUs die
            until(lambda: ha_status(admin)["hosts"]["h1"]["fenced_at"], DETECT + RECOVER,
                  "h1 fenced")  # fmt: skip
            vm1 = until(lambda: (v := vm_where(admin, "vm1"))["state"] == "running" and v,
                        RECOVER, "vm1 running again")  # fmt: skip
            took = time.monotonic() - t0
            until(lambda: lab.status().host("h1").status == "running", RECOVER, "h1 powered on")
        assert vm1["host"] in ("h2", "h3")
        assert qemus_by_guest(lab)["vm1"] == [vm1["host"]]
        assert "vm4" not in qemus_by_guest(lab)  # not HA: it stays down
        left = ha_status(admin)["left_down"]
        assert [(v["vm"], v["host"]) for v in left] == [("vm4", "h1")]
        offs = _audit(live, "host.fence_power_off")
        assert [(r["actor"], r["target"], r["result"]) for r in offs] == [
            ("system:ha", "host/h1", "ok")]  # fmt: skip
        # audited once the restart's call returns, which may be after the VM shows running
        (restart,) = until(lambda: _audit(live, "vm.ha_restart"), 30, "the HA restart audited")
        assert restart["result"] == "ok" and restart["params"]["to"] == vm1["host"]
        # its stale definition on h1 goes once h1 answers again: nothing can start it twice
        until(lambda: [v["host"] for v in admin.get(f"{API}/vms").json() if v["name"] == "vm1"]
              == [vm1["host"]], 60, "vm1 defined only where it runs")  # fmt: skip
        assert sampler.samples > 10 and not sampler.twice, sampler.twice
        print(f"\nfailure -> vm1 running on {vm1['host']}: {took:.1f} s")
    finally:
        live.stop()
        _heal_all(lab)


def test_split_brain_the_host_is_fenced_before_its_vm_starts_elsewhere(lab: Lab) -> None:
    live = _engine(lab)
    try:
        admin = live.as_role("SuperUser")
        _ready(admin, "vm2")
        assert vm_where(admin, "vm2")["host"] == "h2"
        with Sampler(lab) as sampler:
            lab.freeze_daemon("h2")  # libvirtd hangs; vm2's QEMU runs on
            until(lambda: vm_where(admin, "vm2")["state"] == "unknown", DETECT, "vm2 unknown")
            assert qemus_by_guest(lab)["vm2"] == ["h2"]  # still running there
            vm2 = until(lambda: (v := vm_where(admin, "vm2"))["state"] == "running" and v,
                        DETECT + RECOVER, "vm2 running again")  # fmt: skip
        assert vm2["host"] in ("h1", "h3")
        fenced = ha_status(admin)["hosts"]["h2"]["fenced_at"]
        # audited once the restart's call returns, which may be after the VM shows running
        (restart,) = until(lambda: _audit(live, "vm.ha_restart"), 30, "the HA restart audited")
        assert fenced is not None
        assert restart["ts"] > _audit(live, "host.fence_power_off")[0]["ts"]
        assert sampler.samples > 10 and not sampler.twice, sampler.twice
    finally:
        live.stop()
        _heal_all(lab)


def test_without_power_management_nothing_restarts_until_an_operator_confirms(lab: Lab) -> None:
    live = _engine(lab, no_power=("h3",))
    try:
        admin = live.as_role("SuperUser")
        _ready(admin, "vm3")
        with Sampler(lab) as sampler:
            lab.fail("h3", hang=True)  # frozen: it answers nothing, its QEMU is stopped
            until(lambda: ha_status(admin)["hosts"]["h3"]["stage"] == "needs_confirmation",
                  DETECT, "h3 waiting for confirmation")  # fmt: skip
            time.sleep(10)  # well past the grace: still nothing may happen
            assert vm_where(admin, "vm3")["state"] == "unknown"
            assert not _audit(live, "vm.ha_restart") and not _audit(live, "host.fence_power_off")
            lab.fail("h3")  # the operator switches it off for good, then says so
            resp = admin.post(f"{API}/hosts/h3/confirm-rebooted")
            assert resp.status_code == 200, resp.text
            vm3 = until(lambda: (v := vm_where(admin, "vm3"))["state"] == "running" and v,
                        RECOVER, "vm3 running again")  # fmt: skip
        assert vm3["host"] in ("h1", "h2")
        (confirm,) = _audit(live, "host.confirm_rebooted")
        assert (confirm["actor"], confirm["result"]) == ("admin", "ok")
        assert not sampler.twice, sampler.twice
    finally:
        live.stop()
        _heal_all(lab)


def test_an_unreachable_bmc_fails_the_fence_and_nothing_restarts(lab: Lab) -> None:
    live = _engine(lab, fence_quiet_time_seconds=600.0)
    try:
        admin = live.as_role("SuperUser")
        _ready(admin, "vm3")
        victim = vm_where(admin, "vm3")["host"]
        lab.bmc_reachable(victim, False)
        lab.fail(victim)
        until(lambda: _audit(live, "host.fence_power_off"), DETECT + 40, "a fence attempt")
        (off,) = _audit(live, "host.fence_power_off")
        assert off["result"] == "failed"
        until(lambda: ha_status(admin)["hosts"][victim]["last_error"], 10, "the fence failure")
        time.sleep(5)
        assert not _audit(live, "vm.ha_restart") and "vm3" not in qemus_by_guest(lab)
        text = httpx.get(f"http://127.0.0.1:{live.engine.exporter_port}/metrics").text
        assert 'ovtui_fence_operations_total{result="failed"} 1.0' in text  # the alert's input
        assert "ovtui_ha_vms_down 1.0" in text
    finally:
        live.stop()
        for host in lab.host_names():
            with contextlib.suppress(LabError):
                lab.bmc_reachable(host, True)
        _heal_all(lab)


def test_half_the_cluster_unreachable_fences_nobody(lab: Lab) -> None:
    live = _engine(lab)
    try:
        admin = live.as_role("SuperUser")
        _ready(admin)
        lab.fail("h1", hang=True)
        lab.fail("h2", hang=True)
        until(lambda: all(ha_status(admin)["hosts"][h]["held"] for h in ("h1", "h2")),
              DETECT + 10, "fencing held for h1 and h2")  # fmt: skip
        time.sleep(5)
        assert "non-responsive" in ha_status(admin)["hosts"]["h1"]["held"]
        assert not _audit(live, "host.fence_power_off") and not _audit(live, "vm.ha_restart")
    finally:
        live.stop()
        _heal_all(lab)


def test_a_crashed_ha_vm_is_restarted_a_shut_down_one_is_not(lab: Lab) -> None:
    live = _engine(lab)
    try:
        admin = live.as_role("SuperUser")
        _ready(admin, "vm1", "vm2")
        v1, v2 = vm_where(admin, "vm1"), vm_where(admin, "vm2")
        (pid,) = lab.qemu_pids(v1["host"], "vm1")
        os.kill(pid, signal.SIGKILL)  # QEMU dies under libvirt: a crash (STOPPED, FAILED)
        until(lambda: _audit(live, "vm.ha_restart"), 60, "vm1 restarted")
        until(lambda: vm_where(admin, "vm1")["state"] == "running", 60, "vm1 running")
        assert lab.qemu_pids(vm_where(admin, "vm1")["host"], "vm1") != [pid]
        resp = admin.post(f"{API}/vms/vm2/poweroff")  # a user stops it: it stays stopped
        assert resp.status_code == 200, resp.text
        time.sleep(8)
        assert vm_where(admin, "vm2")["state"] == "shutoff" and v2["host"]
        assert [r["params"]["uuid"] for r in _audit(live, "vm.ha_restart")] == [v1["uuid"]]
    finally:
        live.stop()
        _heal_all(lab)


MID_FENCE = ("confirming_off", "powering_on", "fenced")


def test_an_engine_stopped_in_the_middle_of_a_fence_resumes_and_never_acts_twice(
    lab: Lab,
) -> None:
    """The engine is stopped once the power-off of vm1's host has been acknowledged (confirming
    it, powering on, or fenced with vm1's restart due) and a new one starts on the same store:
    it asks the BMC rather than powering off again, and vm1 runs again, exactly once: the new
    engine has never listed it (its host was off when it started) and places it from its
    stored definition, with the HA flag set just before the failure."""
    victim = lab.host_of("vm1")  # earlier tests may have moved it
    assert victim is not None
    live = _engine(lab)
    config, again = live.config, None
    try:
        admin = live.as_role("SuperUser")
        _ready(admin, "vm1")
        with Sampler(lab) as sampler:
            lab.fail(victim)

            def mid_fence() -> str:
                stage = str(ha_status(admin)["hosts"][victim]["stage"])
                return stage if stage in MID_FENCE else ""

            stage = until(
                mid_fence, DETECT + RECOVER, f"{victim}'s power-off acknowledged", every=0.05
            )
            live.stop()
            again = LiveEngine(config, wait_hosts=False)
            again.run(again.engine.fleet.wait_connected(30), timeout=40)
            admin = again.as_role("SuperUser")

            def running() -> dict[str, Any] | None:
                # the new engine has never seen vm1 (its host was off when it started) until it
                # runs again: restarted from its stored definition
                return next((v for v in admin.get(f"{API}/vms").json()
                             if v["name"] == "vm1" and v["state"] == "running"), None)  # fmt: skip

            vm1 = until(running, RECOVER, "vm1 running again")
        # anywhere, once: the new engine powers the fenced host on again, and a host that
        # answers is a host like the others (the measured restart waits for a CPU reading)
        assert qemus_by_guest(lab)["vm1"] == [vm1["host"]]
        offs = _audit(again, "host.fence_power_off")  # one audit trail, both engines
        assert [(r["target"], r["result"]) for r in offs] == [(f"host/{victim}", "ok")], offs
        assert len([r for r in _audit(again, "vm.ha_restart") if r["result"] == "ok"]) <= 1
        assert sampler.samples > 10 and not sampler.twice, sampler.twice
        print(f"\nengine stopped with {victim} {stage}; vm1 restarted on {vm1['host']}")
    finally:
        (again or live).stop()
        _heal_all(lab)


def test_a_soft_fence_restarts_a_frozen_libvirtd_and_nothing_more_happens(lab: Lab) -> None:
    """oVirt's soft fence, for real: the libvirtd of vm2's host freezes, the engine runs the
    configured soft fence (`lab restart-daemon HOST`: libvirtd killed by PID and started again),
    the host answers again and that ends it: no power-off, no restart, vm2's QEMU the same
    process throughout."""
    victim = lab.host_of("vm2")  # earlier tests may have moved it
    assert victim is not None
    live = _engine(lab, soft_fence=(victim,))
    try:
        admin = live.as_role("SuperUser")
        _ready(admin, "vm2")
        (qemu,) = lab.qemu_pids(victim, "vm2")
        frozen = lab.freeze_daemon(victim)
        until(lambda: _audit(live, "host.soft_fence"), DETECT + 30, "a soft fence")
        (soft,) = _audit(live, "host.soft_fence")
        assert (soft["actor"], soft["target"], soft["result"]) == (
            "system:ha",
            f"host/{victim}",
            "ok",
        )

        def recovered() -> bool:
            host = next(h for h in admin.get(f"{API}/hosts").json() if h["name"] == victim)
            return ha_status(admin)["hosts"][victim]["stage"] == "up" and host["state"] == "up"

        until(recovered, DETECT, f"{victim} up again")
        assert lab.daemon_pid(victim) not in (None, frozen)  # a new libvirtd
        assert lab.qemu_pids(victim, "vm2") == [qemu]  # the guest never stopped
        until(lambda: vm_where(admin, "vm2")["state"] == "running", DETECT, "vm2 read running")
        assert vm_where(admin, "vm2")["host"] == victim
        time.sleep(5)  # well past the grace: nothing else may follow
        assert not _audit(live, "host.fence_power_off") and not _audit(live, "vm.ha_restart")
        assert ha_status(admin)["hosts"][victim]["fenced_at"] is None
    finally:
        with contextlib.suppress(LabError):
            lab.restart_daemon(victim)  # a frozen daemon must not outlive the test
        live.stop()
        _heal_all(lab)


def _shared_active(admin: httpx.Client) -> bool:
    domains = {d["name"]: d for d in admin.get(f"{API}/storage").json()}
    shared = domains.get("shared")
    return bool(shared) and [h["state"] for h in shared["hosts"]] == ["active"] * 3


def test_a_wrong_confirmation_meets_qemus_image_lock_on_the_shared_disk(lab: Lab) -> None:
    """The second line of defence. vm2's host has no power management; its libvirtd freezes
    while vm2's QEMU runs on with a disk on the shared domain, and an operator confirms
    "rebooted" although it is not. The engine then restarts vm2 elsewhere, and QEMU there
    refuses the disk the first QEMU still holds: the restart fails saying so, vm2 never runs
    twice, and once that host is really off the next retry brings vm2 up with its disk."""
    victim = lab.host_of("vm2")  # earlier tests may have moved it
    assert victim is not None
    live = _engine(lab, no_power=(victim,))
    disk = "ha-lock"
    try:
        admin = live.as_role("SuperUser")
        _ready(admin, "vm2")  # HA first: the definition is remembered without the disk
        until(lambda: _shared_active(admin), 60, "the shared domain active on every host")
        made = admin.post(f"{API}/storage/shared/disks", json={"name": disk, "size_bytes": 1 << 26})
        assert made.status_code == 201, made.text
        plugged = admin.post(f"{API}/vms/vm2/disks", json={"storage": "shared", "disk": disk})
        assert plugged.status_code == 200, plugged.text
        uuid = vm_where(admin, "vm2")["uuid"]
        # the engine reads the definition again once it sees the new disk
        until(lambda: disk in live.engine.store.vm_settings(uuid).get("ha_xml", ""), 30,
              "vm2's stored definition with its new disk")  # fmt: skip
        with Sampler(lab, vcpus_only=True) as sampler:
            lab.freeze_daemon(victim)
            until(lambda: ha_status(admin)["hosts"][victim]["stage"] == "needs_confirmation",
                  DETECT, f"{victim} waiting for confirmation")  # fmt: skip
            assert qemus_by_guest(lab)["vm2"] == [victim]
            resp = admin.post(
                f"{API}/hosts/{victim}/confirm-rebooted"
            )  # wrong: vm2 still runs there
            assert resp.status_code == 200, resp.text

            def refused() -> str:
                recs = [r for r in ha_status(admin)["recoveries"] if r["vm"] == "vm2"]
                return recs[0]["last_error"] if recs and recs[0]["attempts"] else ""

            error = until(refused, RECOVER, "vm2's restart refused")
            assert "locked by another QEMU (image lock)" in error, error
            assert f"{disk}.qcow2" in error and f"still be running on {victim}" in error, error
            assert qemus_by_guest(lab, vcpus_only=True)["vm2"] == [victim]
            failed = [r for r in _audit(live, "vm.ha_restart") if r["result"] == "failed"]
            assert failed, _audit(live, "vm.ha_restart")
            target = failed[0]["params"]["to"]
            assert target != victim
            # the refused start left no definition behind on its target
            conn = lab.connect(target)
            try:
                assert "vm2" not in {d.name() for d in conn.listAllDomains()}
            finally:
                conn.close()
            lab.fail(victim)  # now it is really off: its QEMU goes, and with it the lock
            vm2 = until(lambda: (v := vm_where(admin, "vm2"))["state"] == "running" and v,
                        RECOVER, "vm2 running again")  # fmt: skip
        assert vm2["host"] != victim
        assert qemus_by_guest(lab)["vm2"] == [vm2["host"]]
        conn = lab.connect(vm2["host"])
        try:
            assert f"{disk}.qcow2" in conn.lookupByName("vm2").XMLDesc(0)  # with its disk
        finally:
            conn.close()
        assert sampler.samples > 10 and not sampler.twice, sampler.twice
    finally:
        lab.fail(victim)  # a frozen daemon must not outlive the test (nor hold the lock)
        live.stop()
        _heal_all(lab)
        _drop_disk(lab, disk)


def _drop_disk(lab: Lab, disk: str) -> None:
    """vm2 without the test's disk on every host, and the disk file gone."""
    for host in lab.host_names():
        conn = lab.connect(host)
        try:
            for dom in conn.listAllDomains():
                xml = dom.XMLDesc(0)
                if f"{disk}.qcow2" not in xml:
                    continue
                start = xml.rindex("<disk ", 0, xml.index(f"{disk}.qcow2"))
                dev = xml[start : xml.index("</disk>", start) + len("</disk>")]
                flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
                if dom.isActive():
                    flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
                with contextlib.suppress(libvirt.libvirtError):
                    dom.detachDeviceFlags(dev, flags)
        finally:
            conn.close()
    (lab.storage().shared_dir / f"{disk}.qcow2").unlink(missing_ok=True)
