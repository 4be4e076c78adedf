"""[[storage_domains]]: each type's keys checked, hosts resolved; every problem names its key."""

from __future__ import annotations

from typing import Any

import pytest

from ovtui.config import ConfigError
from ovtui.config.load import parse_config
from ovtui.storage.topology import domains_of_host, hosts_of

IQN_T = "iqn.2026-12.lab.ovtui:disks"
IQN_I = "iqn.2026-12.lab.ovtui:engine"


def _raw(*domains: dict[str, Any]) -> dict[str, Any]:
    return {
        "datacenters": [{"name": "dc1"}, {"name": "dc2"}],
        "clusters": [
            {"name": "c1", "datacenter": "dc1", "cpu_model": "x"},
            {"name": "c2", "datacenter": "dc2", "cpu_model": "x"},
        ],
        "hosts": [
            {"name": "h1", "cluster": "c1", "uri": "qemu+ssh://h1/system"},
            {"name": "h2", "cluster": "c1", "uri": "qemu+ssh://h2/system"},
            {"name": "h3", "cluster": "c2", "uri": "qemu+ssh://h3/system"},
        ],
        "storage_domains": list(domains),
    }


def _problems(*domains: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(_raw(*domains), source="o.toml")
    assert info.value.exit_code == 2
    return [line.removeprefix("o.toml: ") for line in str(info.value).splitlines()]


def _sd(**fields: Any) -> dict[str, Any]:
    return {
        "name": "shared",
        "datacenter": "dc1",
        "type": "shared_dir",
        "path": "/srv/vm",
        **fields,
    }


def test_every_type_loads_and_shared_ones_default_to_every_host_of_the_data_center() -> None:
    config = parse_config(
        _raw(
            _sd(),
            _sd(name="loc", type="local", path="/var/lib/vm", hosts=["h3"], datacenter="dc2"),
            _sd(name="blk", type="fs", path="/mnt/blk", device="/dev/loop0", hosts=["h2"]),
            {
                "name": "san",
                "datacenter": "dc1",
                "type": "iscsi",
                "portal": "127.0.0.1:13260",
                "target": IQN_T,
                "initiator": IQN_I,
            },
        )
    )
    by_name = {sd.name: sd for sd in config.storage_domains}
    assert hosts_of(config, by_name["shared"]) == ("h1", "h2")
    assert hosts_of(config, by_name["san"]) == ("h1", "h2")
    assert hosts_of(config, by_name["loc"]) == ("h3",)
    assert [sd.name for sd in domains_of_host(config, "h2")] == ["shared", "blk", "san"]
    assert by_name["blk"].filesystem is None and by_name["san"].shared


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        (_sd(type="iscsi", path=None, portal="a:1"), 'type = "iscsi" needs target and initiator'),
        (
            _sd(portal="10.0.0.1:3260"),
            'portal is not used by type = "shared_dir" (its keys: path); remove portal',
        ),
        (_sd(type="local"), 'type = "local" lives on exactly one host: give hosts = ["HOST"]'),
        (_sd(type="fs", device="/dev/loop0", hosts=["h1", "h2"]), "lives on exactly one host"),
        (_sd(type="fs"), 'type = "fs" needs device'),
        (
            _sd(type="nfs"),
            "storage_domains[0].type: Input should be 'shared_dir', 'local', 'fs' or 'iscsi'",
        ),
        (_sd(path="srv/vm"), "storage_domains[0].path: 'srv/vm' must be an absolute path"),
        (
            _sd(type="iscsi", path=None, portal="h", target=IQN_T, initiator=IQN_I),
            "storage_domains[0].portal: 'h' is not HOST:PORT",
        ),
        (
            _sd(type="iscsi", path=None, portal="h:1", target="disks", initiator=IQN_I),
            "storage_domains[0].target: 'disks' is not an iSCSI name",
        ),
        (_sd(sizee=1), "storage_domains[0].sizee: unknown key"),
    ],
)
def test_a_bad_domain_is_refused_naming_the_key(domain: dict[str, Any], expected: str) -> None:
    (problem,) = _problems(domain)
    assert problem.startswith("storage_domains[0]") and expected in problem, problem


def test_references_are_checked_against_data_centers_and_hosts() -> None:
    problems = _problems(
        _sd(datacenter="dc9"),
        _sd(name="b", hosts=["h3"], path="/b"),
        _sd(name="c", hosts=["nope"], path="/c"),
        _sd(name="b", path="/d"),
        _sd(name="e", path="/d", hosts=["h2"]),
    )
    assert problems == [
        "storage_domains[0].datacenter: 'dc9' is not a defined datacenter (valid: dc1, dc2)",
        "storage_domains[1].hosts[0]: 'h3' is in data center 'dc2', not 'dc1' (hosts there: "
        "h1, h2)",
        "storage_domains[2].hosts[0]: 'nope' is not a defined host",
        "storage_domains[3].name: 'b' is already used by storage_domains[1]",
        "storage_domains[4].path: '/d' on h2 is already storage_domains[3]: one directory, "
        "one domain",
    ]
