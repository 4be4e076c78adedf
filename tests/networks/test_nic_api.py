"""NIC changes through the API on the test driver: every refusal before libvirt is asked, each
audited; the MAC pools and their clashes (a VM defined outside ovtui counts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.conftest import API, LiveEngine, fleet_config
from tests.networks.fleet import add_networks

NETWORKS = """
[[networks]]
name = "prod"
datacenter = "dc1"
bridge = "br-prod"
clusters = { c1 = "required" }

[[networks]]
name = "bk"
datacenter = "dc1"
bridge = "br-bk"
clusters = { c1 = "optional" }

[[networks]]
name = "lonely"
datacenter = "dc1"
bridge = "br-l"

[[mac_pools]]
datacenter = "dc1"
ranges = ["56:6f:00:00:00:00-56:6f:00:00:00:0f"]
"""


def _spec() -> FleetSpec:
    sky = "Skylake-Server"
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", sky),),
        (
            HostSpec("h1", "c1", 8, 16384, sky, 2400,
                     (VmSpec("web-1", 1, 512, "web"), VmSpec("web-2", 1, 512, "web"),
                      VmSpec("off-1", 1, 512, "web", running=False))),
        ),
    )  # fmt: skip


def test_nic_refusals_name_the_problem_and_are_audited(
    start_engine: Callable[..., LiveEngine],
) -> None:
    # web-1 and web-2 both get 56:6f:00:00:00:05 (tests.networks.fleet: index 0, len 5): a
    # clash as if made outside ovtui.
    prepare = add_networks(
        {"h1": ["br-prod"]}, {"web-1": ["br-prod"], "web-2": ["br-prod"]}, NETWORKS
    )
    live = start_engine(config=fleet_config(_spec(), prepare=prepare))
    live.settle()
    with live.as_role("SuperUser") as c:
        url = f"{API}/vms/web-1/nics"
        r = c.post(url, json={"network": "nope"})
        assert r.status_code == 400 and "dc1 has no network 'nope'" in r.json()["error"]["message"]
        r = c.post(url, json={"network": "lonely"})
        assert r.status_code == 400 and "not attached to cluster c1" in r.json()["error"]["message"]
        r = c.post(url, json={"network": "bk"})  # optional, and h1 has no br-bk
        assert r.status_code == 409 and "h1 lacks network bk" in r.json()["error"]["message"]
        r = c.post(url, json={"network": "prod", "mac": "56:6f:00:00:00:05"})
        assert r.status_code == 409
        assert (
            r.json()["error"]["message"]
            == "56:6f:00:00:00:05 is already the address of web-1, web-2"
        )
        r = c.post(url, json={"network": "prod", "model": "ne2k"})
        assert r.status_code == 422
        # The test driver cannot plug devices: libvirt's refusal, with the MAC the pool chose.
        r = c.post(url, json={"network": "prod"})
        assert r.status_code == 502, r.text
        pools = c.get(f"{API}/mac-pools").json()
    assert pools == [
        {
            "datacenter": "dc1",
            "ranges": ["56:6f:00:00:00:00-56:6f:00:00:00:0f"],
            "size": 16,
            "used": 1,
            "clashes": [{"mac": "56:6f:00:00:00:05", "vms": ["web-1", "web-2"]}],
        }
    ]
    with live.as_role("Operator") as c:
        assert c.post(f"{API}/vms/web-1/nics", json={"network": "prod"}).status_code == 403
        assert c.delete(f"{API}/vms/web-1/nics/56:6f:00:00:00:05").status_code == 403
    records = [r for r in live.audit_records() if r["action"].startswith("vm.nic")]
    results = [(r["action"], r["result"]) for r in records]
    assert ("vm.nic.add", "failed") in results
    denied = [r for r in live.audit_records() if r["action"] == "vm.network"]
    assert denied and denied[-1]["result"] == "denied"


def test_a_stopped_vms_nics_added_linked_and_removed_in_its_definition(
    start_engine: Callable[..., LiveEngine],
) -> None:
    prepare = add_networks(
        {"h1": ["br-prod"]}, {"web-1": ["br-prod"], "web-2": ["br-prod"]}, NETWORKS
    )
    live = start_engine(config=fleet_config(_spec(), prepare=prepare))
    live.settle()
    with live.as_role("PowerUser") as c:

        def nics() -> list[dict[str, str]]:
            live.settle()
            return c.get(f"{API}/vms/off-1").json()["nics"]

        r = c.post(f"{API}/vms/off-1/nics", json={"network": "prod", "model": "e1000"})
        assert r.status_code == 200, r.text
        assert (r.json()["mac"], r.json()["result"]) == ("56:6f:00:00:00:00", "added")
        added = [n for n in nics() if n["mac"] == "56:6f:00:00:00:00"]
        assert [(n["type"], n["source"], n["model"], n["link"]) for n in added] == [
            ("bridge", "br-prod", "e1000", "up")
        ]
        r = c.post(f"{API}/vms/off-1/nics", json={"network": "prod"})
        assert r.json()["mac"] == "56:6f:00:00:00:01"  # the next free one
        r = c.post(f"{API}/vms/off-1/nics/56:6F:00:00:00:00/link", json={"state": "down"})
        assert r.status_code == 200, r.text
        assert [n["link"] for n in nics() if n["mac"] == "56:6f:00:00:00:00"] == ["down"]
        r = c.delete(f"{API}/vms/off-1/nics/56:6f:00:00:00:00")
        assert (r.status_code, r.json()["result"]) == (200, "removed")
        assert [n["mac"] for n in nics() if n["mac"].startswith("56:6f")] == ["56:6f:00:00:00:01"]
        r = c.delete(f"{API}/vms/off-1/nics/56:6f:00:00:00:00")
        assert (
            r.status_code == 400
            and r.json()["error"]["message"] == "off-1 has no NIC 56:6f:00:00:00:00"
        )
    done = [
        (r["action"], r["result"]) for r in live.audit_records() if r["action"].startswith("vm.nic")
    ]
    assert done == [
        ("vm.nic.add", "ok"),
        ("vm.nic.add", "ok"),
        ("vm.nic.link", "ok"),
        ("vm.nic.remove", "ok"),
        ("vm.nic.remove", "failed"),
    ]


def test_cli_vm_nic_add_link_remove_on_a_stopped_vm(
    start_engine: Callable[..., LiveEngine], tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    import json

    from tests.cli.test_cli import _login_with, _runner

    prepare = add_networks({"h1": ["br-prod"]}, {"web-1": ["br-prod"]}, NETWORKS)
    live = start_engine(config=fleet_config(_spec(), prepare=prepare))
    live.settle()
    cli = _login_with(_runner(live, tmp_path, monkeypatch, capsys))("admin")
    code, out, err = cli("vm", "nic", "add", "off-1", "prod", "--model", "e1000")
    assert (code, out, err) == (0, "off-1 on h1: NIC 56:6f:00:00:00:00 added\n", "")
    code, out, err = cli("vm", "nic", "link", "off-1", "56:6f:00:00:00:00", "down", "--json")
    assert code == 0, err
    assert (json.loads(out)["mac"], json.loads(out)["vm"]) == ("56:6f:00:00:00:00", "off-1")
    live.settle()
    with live.as_role("SuperUser") as c:
        (nic,) = [n for n in c.get(f"{API}/vms/off-1").json()["nics"] if n["mac"].endswith(":00")]
    assert (nic["model"], nic["link"]) == ("e1000", "down")
    code, out, err = cli("vm", "nic", "remove", "off-1", "56:6f:00:00:00:00")
    assert code == 0 and out.startswith("off-1 on h1: NIC 56:6f:00:00:00:00 "), (out, err)
    code, _, err = cli("vm", "nic", "add", "off-1", "nope")
    assert code == 1 and "dc1 has no network 'nope'" in err
