"""Logical networks defined through the API on the test driver: checked on the hosts of their
clusters like ovtui.toml's, kept in the store across a restart, refused clearly (409 while a
cluster or a VM NIC uses one), audited; the CLI's create/attach/delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.cli.test_cli import _login_with, _runner
from tests.conftest import API, LiveEngine, eventually, fleet_config
from tests.networks.fleet import add_networks

NETWORKS = """
[networking]
missing_network_grace_seconds = 0

[[networks]]
name = "prod"
datacenter = "dc1"
bridge = "br-prod"
clusters = { c1 = "optional" }
"""
URL = f"{API}/datacenters/dc1/networks"


def _spec() -> FleetSpec:
    sky = "Skylake-Server"
    return FleetSpec(
        (DatacenterSpec("dc1"), DatacenterSpec("dc2")),
        (ClusterSpec("c1", "dc1", sky), ClusterSpec("c2", "dc2", sky)),
        (
            HostSpec("h1", "c1", 8, 16384, sky, 2400,
                     (VmSpec("off-1", 1, 512, "web", running=False),)),
            HostSpec("h2", "c1", 8, 16384, sky, 2400, ()),
            HostSpec("h3", "c2", 8, 16384, sky, 2400, ()),
        ),
    )  # fmt: skip


@pytest.fixture
def live(start_engine: Callable[..., LiveEngine]) -> LiveEngine:
    # h1 has the bridges of "prod" and of the network the tests define ("lab"); h2 has neither.
    prepare = add_networks({"h1": ["br-prod", "br-lab"]}, {}, NETWORKS)
    engine = start_engine(config=fleet_config(_spec(), prepare=prepare))
    engine.settle()
    return engine


def _net(c: httpx.Client, name: str) -> dict[str, Any] | None:
    rows = c.get(f"{API}/networks", params={"name": name}).json()
    return rows[0] if rows else None


def _host_state(c: httpx.Client, host: str, network: str) -> str | None:
    nets = c.get(f"{API}/hosts/{host}").json()["networks"]
    return next((n["state"] for n in nets if n["name"] == network), None)


def _message(resp: httpx.Response) -> str:
    text: str = resp.json()["error"]["message"]
    return text


def test_a_defined_network_is_checked_on_its_hosts_and_survives_a_restart(
    live: LiveEngine, start_engine: Callable[..., LiveEngine]
) -> None:
    lab = {"name": "lab", "bridge": "br-lab", "mtu": 9000, "clusters": {"c1": "required"}}
    with live.as_role("ClusterAdmin") as c:
        r = c.post(URL, json=lab)
        assert r.status_code == 201, r.text
        assert r.json()["result"] == "network lab defined in dc1, on c1 (required)"
        assert r.json()["network"]["source"] == "api"
        live.settle()
        net = _net(c, "lab")
        assert net is not None
        assert (net["bridge"], net["mtu"], net["source"], net["untested"]) == (
            "br-lab", 9000, "api", []
        )  # fmt: skip
        assert {h["host"]: h["state"] for h in net["hosts"]} == {"h1": "up", "h2": "missing"}
        assert _host_state(c, "h1", "lab") == "up"
        assert _net(c, "prod")["source"] == "config"  # type: ignore[index]
        # required and missing on h2 (grace 0): h2 is non_operational, as for a config network
        eventually(
            lambda: c.get(f"{API}/hosts/h2").json()["state"] == "non_operational",
            what="h2 non_operational for want of lab",
        )
        assert "required network missing: lab" in c.get(f"{API}/hosts/h2").json()["state_reason"]
    created = [r for r in live.audit_records() if r["action"] == "network.create"]
    assert [(r["actor"], r["result"], r["target"]) for r in created] == [
        ("clusteradmin", "ok", "datacenter/dc1/network/lab")
    ]
    assert created[0]["params"]["bridge"] == "br-lab"

    live.stop()
    again = start_engine(config=live.config)
    again.settle()
    with again.as_role("ReadOnly") as c:
        net = _net(c, "lab")
        assert net is not None and net["source"] == "api" and net["clusters"] == {"c1": "required"}
        assert _host_state(c, "h1", "lab") == "up"
    with again.as_role("SuperUser") as c:
        # c2 has no network of ovtui.toml: one defined required, h3 lacks it and is unfit; once
        # detached, h3 has nothing left to miss and is fit again
        st = f"{API}/datacenters/dc2/networks"
        r = c.post(st, json={"name": "st", "bridge": "br-st", "clusters": {"c2": "required"}})
        assert r.status_code == 201, r.text
        eventually(
            lambda: c.get(f"{API}/hosts/h3").json()["state"] == "non_operational",
            what="h3 non_operational for want of st",
        )
        r = c.put(f"{st}/st/clusters", json={"clusters": {}})
        assert r.status_code == 200, r.text
        eventually(
            lambda: c.get(f"{API}/hosts/h3").json()["state"] != "non_operational",
            what="h3 fit again once st is detached",
        )
        assert c.get(f"{API}/hosts/h3").json()["networks"] == []


def test_refusals_name_the_problem(live: LiveEngine) -> None:
    with live.as_role("SuperUser") as c:
        cases = [
            ({"name": "prod", "bridge": "br-x"}, 409, "dc1 already has a network named 'prod'"),
            (
                {"name": "p2", "bridge": "br-prod"},
                409,
                "bridge 'br-prod' is already network prod's in dc1: one bridge carries one network",
            ),
            ({"name": "x", "bridge": "br-x", "clusters": {"c9": "required"}}, 400, "clusters.c9"),
            (
                {"name": "x", "bridge": "br-x", "clusters": {"c2": "required"}},
                400,
                "cluster 'c2' is in datacenter 'dc2'",
            ),
        ]
        for body, status, text in cases:
            r = c.post(URL, json=body)
            assert r.status_code == status and text in _message(r), (body, r.text)
        too_long = {"name": "x", "bridge": "a-bridge-name-too-long"}  # IFNAMSIZ: 15 bytes
        assert c.post(URL, json=too_long).status_code == 422
        r = c.post(f"{API}/datacenters/nope/networks", json={"name": "x", "bridge": "br-x"})
        assert r.status_code == 404 and "no data center named 'nope'" in _message(r)
        r = c.delete(f"{URL}/prod")
        assert r.status_code == 409 and "defined in ovtui.toml" in _message(r)
        r = c.put(f"{URL}/prod/clusters", json={"clusters": {}})
        assert r.status_code == 409 and "defined in ovtui.toml" in _message(r)
        r = c.delete(f"{URL}/ghost")
        assert r.status_code == 404 and "dc1 has no network 'ghost'" in _message(r)
        assert [n["name"] for n in c.get(f"{API}/networks").json()] == ["prod"]  # nothing made
    with live.as_role("PowerUser") as c:
        r = c.post(URL, json={"name": "x", "bridge": "br-x"})
        assert r.status_code == 403 and "may not network.manage on datacenter dc1" in _message(r)
    failed = [r for r in live.audit_records() if r["action"].startswith("network.")]
    assert {(r["action"], r["result"]) for r in failed} == {
        ("network.create", "failed"),
        ("network.delete", "failed"),
        ("network.attach", "failed"),
        ("network.manage", "denied"),
    }
    assert live.engine.store.table("networks").all() == []


def test_delete_waits_until_no_cluster_and_no_nic_uses_it(live: LiveEngine) -> None:
    with live.as_role("SuperUser") as c:
        body = {"name": "lab", "bridge": "br-lab", "clusters": {"c1": "optional"}}
        assert c.post(URL, json=body).status_code == 201
        live.settle()
        r = c.post(f"{API}/vms/off-1/nics", json={"network": "lab"})  # in its definition
        assert r.status_code == 200, r.text
        mac = r.json()["mac"]
        r = c.delete(f"{URL}/lab")
        assert r.status_code == 409
        assert _message(r) == (
            "network lab is attached to clusters c1: detach it first "
            "(PUT .../networks/lab/clusters with {})"
        )
        r = c.put(f"{URL}/lab/clusters", json={"clusters": {}})
        assert r.status_code == 409
        assert _message(r) == (
            "off-1 in c1 have NICs on network lab: remove those NICs before detaching it"
        )
        assert c.delete(f"{API}/vms/off-1/nics/{mac}").status_code == 200
        live.settle()
        r = c.put(f"{URL}/lab/clusters", json={"clusters": {}})
        assert r.status_code == 200, r.text
        assert r.json()["network"]["clusters"] == {}
        assert _host_state(c, "h1", "lab") is None  # no host checks it any more
        r = c.delete(f"{URL}/lab")
        assert r.status_code == 200 and r.json() == {"result": "network lab deleted from dc1"}
        assert _net(c, "lab") is None
    assert live.engine.store.table("networks").all() == []
    actions = [r["action"] for r in live.audit_records() if r["action"].startswith("network.")]
    assert actions == ["network.create", "network.delete", "network.attach", "network.attach",
                       "network.delete"]  # fmt: skip


def test_the_cli_defines_attaches_and_deletes(
    live: LiveEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    cli = _login_with(_runner(live, tmp_path, monkeypatch, capsys))("admin")

    def run(*args: str) -> Any:
        code, out, err = cli(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    out = run("network", "create", "lab", "--datacenter", "dc1", "--bridge", "br-lab",
              "--cluster", "c1=optional")  # fmt: skip
    assert out["network"]["clusters"] == {"c1": "optional"}
    out = run("network", "attach", "lab", "--datacenter", "dc1", "--cluster", "c1=required")
    assert out["result"] == "network lab now on c1 (required)"
    shown = run("network", "show", "lab")
    assert shown["source"] == "api" and shown["clusters"] == {"c1": "required"}
    run("network", "attach", "lab", "--datacenter", "dc1")
    assert run("network", "delete", "lab", "--datacenter", "dc1") == {
        "result": "network lab deleted from dc1"
    }
    code, _, err = cli("network", "create", "x", "--datacenter", "dc1", "--bridge", "b",
                       "--cluster", "c1")  # fmt: skip
    assert code == 1 and "CLUSTER=required or CLUSTER=optional" in err
    code, _, err = cli("network", "delete", "prod", "--datacenter", "dc1")
    assert code == 1 and "defined in ovtui.toml" in err and "(HTTP 409)" in err
