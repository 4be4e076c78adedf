"""The test-driver fleet: node XML that libvirt opens as specified, the config, the demo spec."""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovtui.testdriver_fleet import (
    VM_METADATA_NS,
    FleetSpec,
    HostSpec,
    demo_spec,
    node_xml,
    synthetic_spec,
    validate,
    vm_uuid,
    write_fleet,
)
from ovtui.testdriver_fleet.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / "appliance" / "demo"
EXAMPLE = ROOT / "appliance" / "ovtui.example.toml"


@pytest.fixture(autouse=True, scope="module")
def _quiet_libvirt() -> Iterator[None]:
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    yield


def _open(path: Path) -> libvirt.virConnect:
    return libvirt.open(f"test://{path}")


def _check_host_against_spec(conn: libvirt.virConnect, host: HostSpec) -> None:
    model, memory_mib, cpus, mhz, *_ = conn.getInfo()
    assert (model, memory_mib, cpus, mhz) == (host.cpu_model, host.memory_mib, host.cpus, host.mhz)
    domains = {dom.name(): dom for dom in conn.listAllDomains()}
    assert set(domains) == {vm.name for vm in host.vms}
    for vm in host.vms:
        dom = domains[vm.name]
        assert dom.UUIDString() == vm.uuid == vm_uuid(vm.name)
        state, max_kib, _, vcpus, _ = dom.info()
        assert (max_kib, vcpus) == (vm.memory_mib * 1024, vm.vcpus)
        assert bool(dom.isActive()) is vm.running
        assert state == (libvirt.VIR_DOMAIN_RUNNING if vm.running else libvirt.VIR_DOMAIN_SHUTOFF)
        meta = ET.fromstring(dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, VM_METADATA_NS))
        assert meta.attrib == {
            "role": vm.role,
            "ha": str(vm.ha).lower(),
            "pinned": str(vm.pinned).lower(),
            "migratable": str(vm.migratable).lower(),
            "affinity": vm.affinity,
            "anti_affinity": vm.anti_affinity,
        }


def test_demo_node_files_open_with_libvirt_as_specified(tmp_path: Path) -> None:
    spec = demo_spec()
    for host in spec.hosts:
        path = tmp_path / f"{host.name}.xml"
        path.write_text(node_xml(host))
        conn = _open(path)
        try:
            _check_host_against_spec(conn, host)
        finally:
            conn.close()


def test_each_open_parses_the_file_again_and_uuids_are_stable(tmp_path: Path) -> None:
    host = demo_spec().hosts[3]
    path = tmp_path / "h.xml"
    path.write_text(node_xml(host))
    first, second = _open(path), _open(path)
    try:
        dom = first.lookupByName(host.vms[0].name)
        dom.destroy()  # state is per connection
        assert not dom.isActive()
        assert second.lookupByName(host.vms[0].name).isActive()
        assert second.lookupByName(host.vms[0].name).UUIDString() == dom.UUIDString()
    finally:
        first.close()
        second.close()


def test_shut_off_vm_can_be_started(tmp_path: Path) -> None:
    host = next(h for h in demo_spec().hosts if any(not vm.running for vm in h.vms))
    path = tmp_path / "h.xml"
    path.write_text(node_xml(host))
    conn = _open(path)
    try:
        vm = next(vm for vm in host.vms if not vm.running)
        dom = conn.lookupByName(vm.name)
        dom.create()
        assert dom.info()[0] == libvirt.VIR_DOMAIN_RUNNING
    finally:
        conn.close()


def _example_keys() -> dict[str, set[str]]:
    ex = tomllib.loads(EXAMPLE.read_text())
    return {
        "top": set(ex),
        "engine": set(ex["engine"]),
        "api": set(ex["api"]) | {"socket_group", "tcp", "tls_cert", "tls_key"},
        "exporter": set(ex["exporter"]),
        "datacenters": set(ex["datacenters"][0]),
        "clusters": set(ex["clusters"][0]),
        "scheduling": set(ex["clusters"][0]["scheduling"]),
        # commented-out optional keys of the example
        "hosts": set(ex["hosts"][0]) | {"migration_uri", "cpus", "memory_mib", "load"},
    }


def test_write_fleet_config_follows_the_example_schema(tmp_path: Path) -> None:
    spec = demo_spec()
    config_path = write_fleet(spec, tmp_path / "fleet", exporter_listen="127.0.0.1:19177")
    assert config_path == (tmp_path / "fleet" / "ovtui.toml").resolve()
    cfg = tomllib.loads(config_path.read_text())
    keys = _example_keys()
    assert {"engine", "api", "exporter", "datacenters", "clusters", "hosts"} <= set(cfg)
    assert set(cfg) <= keys["top"]
    for section in ("engine", "api", "exporter"):
        assert set(cfg[section]) <= keys[section], section
    assert cfg["engine"]["store_dir"] == str((tmp_path / "fleet" / "store").resolve())
    assert cfg["api"]["socket"] == str((tmp_path / "fleet" / "api.sock").resolve())
    assert cfg["exporter"]["listen"] == "127.0.0.1:19177"
    assert [dc["name"] for dc in cfg["datacenters"]] == ["dc1"]
    assert [c["name"] for c in cfg["clusters"]] == ["prod-a", "prod-b"]
    for cluster in cfg["clusters"]:
        assert set(cluster) <= keys["clusters"]
        assert set(cluster["scheduling"]) <= keys["scheduling"]
        assert {"policy", "mode"} <= set(cluster["scheduling"])
    assert [h["name"] for h in cfg["hosts"]] == [h.name for h in spec.hosts]
    for entry, host in zip(cfg["hosts"], spec.hosts, strict=True):
        assert set(entry) <= keys["hosts"]
        assert entry["cluster"] == host.cluster
        assert entry["load"] == "synthetic"
        assert entry["uri"] == f"test://{(tmp_path / 'fleet' / f'{host.name}.xml').resolve()}"
        assert Path(entry["uri"].removeprefix("test://")).read_text() == node_xml(host)


def test_write_fleet_options_and_awkward_paths(tmp_path: Path) -> None:
    spec = synthetic_spec(2, 3)
    directory = tmp_path / "with space"
    config_path = write_fleet(
        spec, directory, store_dir=tmp_path / "st", api_socket=tmp_path / "a.sock"
    )
    cfg = tomllib.loads(config_path.read_text())
    assert cfg["engine"]["store_dir"] == str(tmp_path / "st")
    assert cfg["api"]["socket"] == str(tmp_path / "a.sock")
    assert cfg["exporter"]["listen"] == "127.0.0.1:0"
    uri = cfg["hosts"][0]["uri"]
    assert "%20" in uri
    conn = libvirt.open(uri)
    try:
        _check_host_against_spec(conn, spec.hosts[0])
    finally:
        conn.close()


def test_write_fleet_refuses_an_inconsistent_spec(tmp_path: Path) -> None:
    spec = demo_spec()
    bad = FleetSpec(spec.datacenters, spec.clusters, (*spec.hosts, spec.hosts[0]))
    with pytest.raises(ValueError, match="duplicate host name 'kvm-a01'"):
        write_fleet(bad, tmp_path)


def test_demo_spec_shape() -> None:
    spec = demo_spec()
    assert validate(spec) == []
    assert spec == demo_spec()
    vms = [vm for _, vm in spec.vms()]
    assert len(spec.datacenters) == 1
    assert len(spec.clusters) == 2
    assert len({c.cpu_model for c in spec.clusters}) == 2
    assert len(spec.hosts) >= 6
    assert len({(h.cpus, h.memory_mib) for h in spec.hosts}) >= 4
    assert 110 <= len(vms) <= 130
    assert len({vm.name for vm in vms}) == len(vms)
    assert len({vm.uuid for vm in vms}) == len(vms)
    assert sum(vm.ha for vm in vms) >= 3
    assert sum(vm.pinned for vm in vms) >= 2
    assert sum(not vm.migratable for vm in vms) >= 2
    assert 5 <= sum(not vm.running for vm in vms) <= 20
    assert any("replica" in vm.name and vm.anti_affinity for vm in vms)
    for host in spec.hosts:
        cluster = spec.cluster(host.cluster)
        assert host.cpu_model == cluster.cpu_model
        limit = host.memory_mib * cluster.memory_overcommit_percent // 100
        assert sum(vm.memory_mib for vm in host.vms) <= limit, host.name


def test_committed_demo_files_equal_generated() -> None:
    spec = demo_spec()
    expected = {f"{h.name}.xml": node_xml(h) for h in spec.hosts}
    committed = {p.name: p.read_text() for p in DEMO_DIR.glob("*.xml")}
    assert set(committed) == set(expected), "regenerate: see appliance/demo/README.md"
    for name, text in expected.items():
        assert committed[name] == text, f"{name} drifted; regenerate: see appliance/demo/README.md"


def test_synthetic_spec_sizes_and_determinism() -> None:
    spec = synthetic_spec(100, 40, seed=7)
    assert validate(spec) == []
    assert len(spec.hosts) == 100 and len(spec.clusters) == 2
    assert all(len(h.vms) == 40 for h in spec.hosts)
    vms = [vm for _, vm in spec.vms()]
    assert len({vm.name for vm in vms}) == 4000
    assert any(vm.role == "hot" for vm in vms)
    assert any(not vm.running for vm in vms)
    assert spec == synthetic_spec(100, 40, seed=7)
    assert spec != synthetic_spec(100, 40, seed=8)
    assert len(synthetic_spec(10, 40).clusters) == 1
    assert len(synthetic_spec(500, 40).clusters) == 10
    assert len(synthetic_spec(6, 2, clusters=3).clusters) == 3
    with pytest.raises(ValueError):
        synthetic_spec(2, 1, clusters=3)


@settings(max_examples=30, deadline=None)
@given(
    hosts=st.integers(1, 8),
    vms=st.integers(0, 60),
    clusters=st.one_of(st.none(), st.integers(1, 8)),
    seed=st.integers(0, 2**32),
)
def test_synthetic_spec_is_always_consistent(
    hosts: int, vms: int, clusters: int | None, seed: int
) -> None:
    if clusters is not None and clusters > hosts:
        clusters = hosts
    spec = synthetic_spec(hosts, vms, clusters=clusters, seed=seed)
    assert validate(spec) == []
    assert sum(len(h.vms) for h in spec.hosts) == hosts * vms


def test_synthetic_host_opens_with_libvirt(tmp_path: Path) -> None:
    spec = synthetic_spec(3, 40, seed=1)
    config_path = write_fleet(spec, tmp_path)
    cfg = tomllib.loads(config_path.read_text())
    for entry, host in zip(cfg["hosts"], spec.hosts, strict=True):
        conn = libvirt.open(entry["uri"])
        try:
            _check_host_against_spec(conn, host)
        finally:
            conn.close()


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--hosts", "2", "--vms-per-host", "3", str(tmp_path / "gen")]) == 0
    assert (tmp_path / "gen" / "ovtui.toml").is_file()
    assert main(["--demo", "--xml-only", str(tmp_path / "demo")]) == 0
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == sorted(
        f"{h.name}.xml" for h in demo_spec().hosts
    )
    assert "wrote 7 node files" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
