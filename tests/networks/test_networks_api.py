"""GET /api/v1/networks and the networks of GET /hosts: what the node files hold, per host,
only what the caller may read; VLAN and bond labelled untested."""

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
mtu = 9000
vlan = 42
clusters = { c1 = "required" }

[[networks]]
name = "store"
datacenter = "dc2"
bridge = "br-store"
clusters = { c2 = "optional" }
"""


def _spec() -> FleetSpec:
    sky = "Skylake-Server"
    return FleetSpec(
        (DatacenterSpec("dc1"), DatacenterSpec("dc2")),
        (ClusterSpec("c1", "dc1", sky), ClusterSpec("c2", "dc2", sky)),
        (
            HostSpec("h1", "c1", 8, 16384, sky, 2400, (VmSpec("web-1", 1, 512, "web"),)),
            HostSpec("h2", "c1", 8, 16384, sky, 2400, ()),
            HostSpec("h3", "c2", 8, 16384, sky, 2400, ()),
        ),
    )


def test_networks_and_their_state_per_host(start_engine: Callable[..., LiveEngine]) -> None:
    prepare = add_networks({"h1": ["br-prod"], "h3": []}, {"web-1": ["br-prod"]}, NETWORKS)
    live = start_engine(config=fleet_config(_spec(), prepare=prepare))
    live.settle()
    with live.as_role("SuperUser") as c:
        nets = c.get(f"{API}/networks").json()
        hosts = {h["name"]: h for h in c.get(f"{API}/hosts").json()}
        one = c.get(f"{API}/networks", params={"name": "store"}).json()
    by_name: dict[str, Any] = {n["name"]: n for n in nets}
    prod = by_name["prod"]
    assert (prod["bridge"], prod["mtu"], prod["vlan"], prod["untested"]) == (
        "br-prod",
        9000,
        42,
        ["vlan"],
    )
    assert prod["clusters"] == {"c1": "required"}
    states = {h["host"]: (h["required"], h["state"]) for h in prod["hosts"]}
    assert states == {"h1": (True, "up"), "h2": (True, "missing")}
    assert by_name["store"]["untested"] == []
    assert by_name["store"]["hosts"] == [
        {
            "host": "h3",
            "cluster": "c2",
            "required": False,
            "state": "missing",
            "missing_since": by_name["store"]["hosts"][0]["missing_since"],
            "mtu": 0,
        }
    ]
    assert [n["name"] for n in one] == ["store"]
    assert hosts["h1"]["networks"] == [
        {
            "name": "prod",
            "bridge": "br-prod",
            "required": True,
            "state": "up",
            "missing_since": None,
            "mtu": 1500,
            "libvirt_network": False,
        }
    ]
    assert hosts["h2"]["networks"][0]["state"] == "missing"


def test_cli_network_list_show_and_host_show(
    start_engine: Callable[..., LiveEngine], tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    import json

    from tests.cli.test_cli import _login_with, _runner

    prepare = add_networks({"h1": ["br-prod"], "h3": []}, {"web-1": ["br-prod"]}, NETWORKS)
    live = start_engine(config=fleet_config(_spec(), prepare=prepare))
    live.settle()
    cli = _login_with(_runner(live, tmp_path, monkeypatch, capsys))("admin")
    code, out, err = cli("network", "list")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "DATACENTER",
        "BRIDGE",
        "MTU",
        "VLAN",
        "CLUSTERS",
        "HOSTS",
        "UP",
    ]
    assert lines[1].split() == [
        "prod",
        "dc1",
        "br-prod",
        "9000",
        "42",
        "(untested)",
        "c1:required",
        "1/2",
    ]
    assert "UNTESTED" in lines[-1]
    code, out, _ = cli("network", "show", "prod")
    assert code == 0 and "h2" in out and "missing" in out
    code, out, _ = cli("network", "show", "prod", "--json")
    assert code == 0 and json.loads(out)["hosts"][0]["host"] == "h1"
    code, _, err = cli("network", "show", "nope")
    assert code == 1 and err == "ovtui: no network named 'nope' (list them: ovtui network list)\n"
    code, out, _ = cli("host", "show", "h2")
    assert code == 0 and "br-prod" in out and "missing" in out
