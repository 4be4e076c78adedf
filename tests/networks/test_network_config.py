"""[[networks]] and [[mac_pools]]: every mistake refused with exit 2, naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from ovtui.config import ConfigError
from ovtui.config.load import parse_config

SRC = "/etc/ovtui/ovtui.toml"


def _raw(networks: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "datacenters": [{"name": "dc1"}, {"name": "dc2"}],
        "clusters": [
            {"name": "c1", "datacenter": "dc1", "cpu_model": "Skylake-Server"},
            {"name": "c2", "datacenter": "dc2", "cpu_model": "Skylake-Server"},
        ],
        "hosts": [{"name": "h1", "cluster": "c1", "uri": "qemu+ssh://root@h1/system"}],
        "networks": networks if networks is not None else [],
        **extra,
    }


def _net(**fields: Any) -> dict[str, Any]:
    return {"name": "prod", "datacenter": "dc1", "bridge": "br-prod", **fields}


def _problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source=SRC)
    assert info.value.exit_code == 2
    return [line.removeprefix(f"{SRC}: ") for line in str(info.value).splitlines()]


def test_a_network_with_clusters_vlan_bond_and_a_pool_loads() -> None:
    cfg = parse_config(
        _raw(
            [
                _net(
                    mtu=9000,
                    vlan=100,
                    bond={"name": "bond0", "slaves": ["eth0", "eth1"]},
                    clusters={"c1": "required"},
                )
            ],
            mac_pools=[{"datacenter": "dc1", "ranges": ["56:6F:00:00:00:00-56:6f:00:00:00:ff"]}],
            networking={"missing_network_grace_seconds": 5.0},
        )
    )
    net = cfg.networks[0]
    assert (net.bridge, net.mtu, net.vlan, net.clusters) == (
        "br-prod",
        9000,
        100,
        {"c1": "required"},
    )
    assert net.bond is not None and net.bond.mode == "active-backup"
    assert cfg.mac_pools[0].ranges == ["56:6f:00:00:00:00-56:6f:00:00:00:ff"]
    assert cfg.networking.missing_network_grace_seconds == 5.0


def test_defaults_without_networks() -> None:
    cfg = parse_config(_raw())
    assert cfg.networks == [] and cfg.networking.missing_network_grace_seconds == 60.0


@pytest.mark.parametrize(
    ("fields", "key", "words"),
    [
        ({"vlan": 4095}, "networks[0].vlan", "less than or equal to 4094"),
        ({"vlan": 0}, "networks[0].vlan", "greater than or equal to 1"),
        ({"vlan": "100"}, "networks[0].vlan", "integer"),
        ({"mtu": 40}, "networks[0].mtu", "greater than or equal to 68"),
        ({"bridge": "a-bridge-name-too-long"}, "networks[0].bridge", "at most 15"),
        ({"bridge": "br/0"}, "networks[0].bridge", "pattern"),
        ({"clusters": {"c1": "mandatory"}}, "networks[0].clusters.c1", "'required' or 'optional'"),
        ({"bond": {"name": "bond0", "slaves": ["eth0"]}}, "networks[0].bond.slaves", "at least 2"),
        ({"vlna": 1}, "networks[0].vlna", "unknown key (valid keys: name, datacenter, bridge"),
    ],
)
def test_bad_network_fields_name_the_key(fields: dict[str, Any], key: str, words: str) -> None:
    problems = _problems(_raw([_net(**fields)]))
    assert len(problems) == 1 and problems[0].startswith(f"{key}: "), problems
    assert words in problems[0]


def test_cross_references_name_each_key() -> None:
    problems = _problems(
        _raw(
            [
                _net(datacenter="dc9"),
                _net(clusters={"nope": "required", "c2": "optional"}),
                _net(name="other"),
            ]
        )
    )
    assert problems[0].startswith("networks[0].datacenter: 'dc9' is not a defined datacenter")
    assert any(p.startswith("networks[1].clusters.nope: not a defined cluster") for p in problems)
    assert any(
        p.startswith("networks[1].clusters.c2: cluster 'c2' is in datacenter 'dc2'")
        for p in problems
    )
    assert "networks[2].bridge: 'br-prod' is already the bridge of networks[1]" in problems
    assert "networks[1].name: 'prod' is already networks[0] in dc1" not in problems  # other dc


def test_same_name_twice_in_one_datacenter() -> None:
    problems = _problems(_raw([_net(), _net(bridge="br2")]))
    assert problems == ["networks[1].name: 'prod' is already networks[0] in dc1"]


@pytest.mark.parametrize(
    ("ranges", "words"),
    [
        (["56:6f:00:00:00:00"], "is not FIRST-LAST"),
        (["56:6f:00:00:00:ff-56:6f:00:00:00:00"], "the first address is above the last"),
        (["57:6f:00:00:00:00-57:6f:00:00:00:ff"], "multicast"),
        (
            ["56:6f:00:00:00:00-56:6f:00:00:00:ff", "56:6f:00:00:00:80-56:6f:00:00:01:ff"],
            "overlap",
        ),
    ],
)
def test_bad_mac_ranges(ranges: list[str], words: str) -> None:
    problems = _problems(_raw(mac_pools=[{"datacenter": "dc1", "ranges": ranges}]))
    assert len(problems) == 1 and problems[0].startswith("mac_pools[0].ranges"), problems
    assert words in problems[0]


def test_pools_of_two_datacenters_must_not_overlap_and_one_pool_per_datacenter() -> None:
    r = "56:6f:00:00:00:00-56:6f:00:00:00:ff"
    problems = _problems(
        _raw(
            mac_pools=[
                {"datacenter": "dc1", "ranges": [r]},
                {"datacenter": "dc2", "ranges": ["56:6f:00:00:00:10-56:6f:00:00:00:20"]},
                {"datacenter": "dc1", "ranges": ["56:6f:00:00:10:00-56:6f:00:00:10:ff"]},
            ]
        )
    )
    assert any(
        p.startswith("mac_pools[1].ranges: '56:6f:00:00:00:10-") and r in p for p in problems
    )
    assert any(
        p.startswith("mac_pools[2].datacenter: 'dc1' already has mac_pools[0]") for p in problems
    )


def test_grace_period_is_range_checked() -> None:
    problems = _problems(_raw(networking={"missing_network_grace_seconds": -1.0}))
    assert problems[0].startswith("networking.missing_network_grace_seconds: ")
