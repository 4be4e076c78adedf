"""HA through the API: a VM's HA flag and priority are kept in the store and shown; the HA
status; "confirm host has been rebooted" is refused for a host that answers; audited."""

from __future__ import annotations

from tests.conftest import API, LiveEngine


def test_ha_flag_and_priority_are_stored_shown_and_survive_a_restart(start_engine) -> None:  # type: ignore[no-untyped-def]
    live: LiveEngine = start_engine()
    admin = live.as_role("SuperUser")
    before = admin.get(f"{API}/vms/web-2").json()
    assert before["highly_available"] is False and before["ha_priority"] == 0
    resp = admin.put(f"{API}/vms/web-2/ha", json={"ha": True, "priority": 70})
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"] == "web-2: HA on, priority 70"
    shown = admin.get(f"{API}/vms/web-2").json()
    assert (shown["highly_available"], shown["ha_priority"]) == (True, 70)
    settings = live.engine.store.vm_settings(shown["uuid"])
    assert settings["ha"] is True and "<domain" in settings["ha_xml"]  # kept for a restart
    (rec,) = [r for r in live.engine.audit_log.tail(5) if r["action"] == "vm.ha"]
    assert rec["result"] == "ok" and rec["params"]["priority"] == 70
    bad = admin.put(f"{API}/vms/web-2/ha", json={"ha": True, "priority": 101})
    assert bad.status_code == 422 and "priority" in bad.json()["error"]["message"]
    config = live.engine.config
    live.stop()
    again: LiveEngine = start_engine(config=config)
    shown = again.as_role("SuperUser").get(f"{API}/vms/web-2").json()
    assert (shown["highly_available"], shown["ha_priority"]) == (True, 70)


def test_ha_status_and_confirm_on_a_host_that_answers(start_engine) -> None:  # type: ignore[no-untyped-def]
    live: LiveEngine = start_engine()
    admin = live.as_role("SuperUser")
    live.run(live.engine.ha.tick())
    status = admin.get(f"{API}/ha").json()
    assert status["hosts"]["h1"]["stage"] == "up" and status["recoveries"] == []
    # web-1 (HA, 4 GiB) on h1 fits on h2: c1 keeps its reservation
    assert status["reservation"]["c1"] == {
        "ok": True, "detail": "every host's HA VMs fit on the others", "ha_vms": 1}  # fmt: skip
    resp = admin.post(f"{API}/hosts/h1/confirm-rebooted")
    assert resp.status_code == 409 and "only a non-responsive host" in resp.text
    no_pm = admin.post(f"{API}/hosts/h1/power", json={"action": "off"})
    assert no_pm.status_code == 400 and "no power management" in no_pm.text
    actions = [(r["action"], r["result"]) for r in live.engine.audit_log.tail(3)]
    assert ("host.confirm_rebooted", "failed") in actions
    assert ("host.power_off", "failed") in actions
    assert live.as_role("Operator").post(f"{API}/hosts/h1/fence").status_code == 403
