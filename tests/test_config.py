"""ovtui.toml: every problem is refused before anything starts, with the file, the key and a fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ovtui.config import ConfigError, load_config
from ovtui.config.load import parse_config
from ovtui.config.secrets import SecretRef

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "appliance" / "ovtui.example.toml"
HOST_KEYS = "name, cluster, uri, migration_uri, cpus, memory_mib, load, power"


def _base(**sections: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "datacenters": [{"name": "dc1"}],
        "clusters": [{"name": "c1", "datacenter": "dc1", "cpu_model": "Skylake-Server"}],
        "hosts": [{"name": "h1", "cluster": "c1", "uri": "qemu+ssh://root@h1/system"}],
    }
    raw.update(sections)
    return raw


def _host(**fields: Any) -> dict[str, Any]:
    return {"name": "h1", "cluster": "c1", "uri": "qemu+ssh://root@h1/system", **fields}


def _problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="/etc/ovtui/ovtui.toml")
    assert info.value.exit_code == 2
    lines = str(info.value).splitlines()
    assert lines and all(line.startswith("/etc/ovtui/ovtui.toml: ") for line in lines), lines
    return [line.removeprefix("/etc/ovtui/ovtui.toml: ") for line in lines]


def test_a_minimal_config_loads_with_documented_defaults() -> None:
    config = parse_config(_base(), source="x.toml")
    assert config.source == "x.toml"
    assert config.api.socket == Path("/run/ovtui/api.sock") and config.api.socket_mode == "0660"
    assert config.engine.libvirt_call_timeout_seconds == 10.0
    assert [h.load for h in config.hosts] == ["measured"]
    assert config.datacenter_of("c1") == "dc1"


def test_the_annotated_example_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.source == str(EXAMPLE)
    assert [d.name for d in config.datacenters] == ["dc1"]
    (cluster,) = config.clusters
    assert (cluster.name, cluster.cpu_model, cluster.memory_overcommit_percent) == (
        "prod-a",
        "Skylake-Server",
        150,
    )
    assert cluster.scheduling.policy == "evenly_distributed"
    assert cluster.scheduling.params == {
        "HighUtilization": 80,
        "CpuOverCommitDurationMinutes": 2,
        "MaxParallelMigrations": 2,
    }
    assert cluster.scheduling.power_saving_window == "22:00-06:00"
    assert [(g.role, g.scope, g.object) for g in config.auth.grants] == [
        ("ClusterAdmin", "cluster", "prod-a"),
        ("Auditor", "system", ""),
    ]
    (host,) = config.hosts
    assert (host.name, host.uri) == ("kvm-01", "qemu+ssh://root@kvm-01.example/system")
    (shared,) = config.storage_domains
    assert (shared.name, shared.type, str(shared.path)) == (
        "shared",
        "shared_dir",
        "/srv/ovtui/shared",
    )
    assert host.power.kind == "command" and host.power.off == [
        "/usr/local/sbin/power",
        "off",
        "kvm-01",
    ]


@pytest.mark.parametrize(
    ("raw", "key", "valid"),
    [
        (
            _base(colour="blue"),
            "colour",
            "engine, api, exporter, auth, datacenters, clusters, hosts",
        ),
        (
            _base(engine={"poll_intervall_seconds": 5}),
            "engine.poll_intervall_seconds",
            "store_dir, poll_interval_seconds, libvirt_call_timeout_seconds",
        ),
        (_base(hosts=[_host(uril="x")]), "hosts[0].uril", HOST_KEYS),
        (
            _base(hosts=[_host(power={"password": {"value": "x"}})]),
            "hosts[0].power.password.value",
            "file, env",
        ),
    ],
)
def test_unknown_key_names_the_key_and_the_valid_ones(raw: dict, key: str, valid: str) -> None:
    problems = _problems(raw)
    line = next((p for p in problems if p.startswith(f"{key}: ")), None)
    assert line is not None, problems
    assert "unknown key" in line and f"(valid keys: {valid}" in line


def test_a_top_level_source_key_is_refused_too() -> None:
    # `source` is where the file came from (internal), never something a file may set.
    assert _problems(_base(source="elsewhere")) == ["source: unknown key"]


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(_base(engine={"bogus": 1, "poll_interval_seconds": "often"}))
    assert len(problems) == 2
    assert any(p.startswith("engine.bogus: unknown key") for p in problems)
    assert any(p.startswith("engine.poll_interval_seconds: ") for p in problems)


@pytest.mark.parametrize(
    ("raw", "key", "words"),
    [
        (_base(engine={"poll_interval_seconds": "fast"}), "engine.poll_interval_seconds", "number"),
        (_base(engine={"shutdown_timeout_seconds": 0}), "engine.shutdown_timeout_seconds", "> 0"),
        (_base(hosts=[_host(cpus=0)]), "hosts[0].cpus", "greater than 0"),
        (_base(hosts={"name": "h1"}), "hosts", "valid list"),
        (_base(auth={"session_idle_minutes": "30m"}), "auth.session_idle_minutes", "integer"),
        (_base(hosts=[_host(name="bad name")]), "hosts[0].name", "pattern"),
    ],
)
def test_wrong_type_or_range_names_key_and_value(raw: dict, key: str, words: str) -> None:
    (problem,) = _problems(raw)
    assert problem.startswith(f"{key}: ")
    if words == "> 0":
        assert "greater than 0" in problem and "(got 0)" in problem
    else:
        assert words in problem


@pytest.mark.parametrize(
    ("raw", "key", "valid"),
    [
        (
            _base(
                clusters=[
                    {
                        "name": "c1",
                        "datacenter": "dc1",
                        "cpu_model": "X",
                        "scheduling": {"policy": "round_robin"},
                    }
                ]
            ),
            "clusters[0].scheduling.policy",
            ("'none'", "'evenly_distributed'", "'power_saving'", "'round_robin'"),
        ),
        (
            _base(
                clusters=[{"name": "c1", "datacenter": "dc1", "cpu_model": "X", "resiliency": "x"}]
            ),
            "clusters[0].resiliency",
            ("'migrate'", "'migrate_ha_only'", "'none'"),
        ),
        (_base(hosts=[_host(load="guessed")]), "hosts[0].load", ("'measured'", "'synthetic'")),
    ],
)
def test_bad_enum_value_lists_the_valid_values(raw: dict, key: str, valid: tuple) -> None:
    (problem,) = _problems(raw)
    assert problem.startswith(f"{key}: ")
    for word in valid:
        assert word in problem


def test_cluster_in_an_unknown_datacenter() -> None:
    raw = _base(clusters=[{"name": "c1", "datacenter": "dc9", "cpu_model": "X"}])
    assert _problems(raw) == [
        "clusters[0].datacenter: 'dc9' is not a defined datacenter (valid: dc1)"
    ]


def test_cluster_without_any_datacenter_says_to_add_one() -> None:
    raw = _base(datacenters=[], clusters=[{"name": "c1", "datacenter": "dc1", "cpu_model": "X"}])
    (problem,) = _problems(raw)
    assert problem.startswith("clusters[0].datacenter: 'dc1' is not a defined datacenter")
    assert "add a [[datacenters]] section" in problem


def test_host_in_an_unknown_cluster() -> None:
    (problem,) = _problems(_base(hosts=[_host(cluster="c9")]))
    assert problem == "hosts[0].cluster: 'c9' is not a defined cluster (valid: c1)"


def test_duplicate_names_and_uris_name_both_entries() -> None:
    raw = _base(
        datacenters=[{"name": "dc1"}, {"name": "dc1"}],
        hosts=[_host(), _host(), _host(name="h2", uri="qemu+ssh://root@h1/system")],
    )
    problems = _problems(raw)
    assert "datacenters[1].name: 'dc1' is already used by datacenters[0]" in problems
    assert "hosts[1].name: 'h1' is already used by hosts[0]" in problems
    assert "hosts[1].uri: 'qemu+ssh://root@h1/system' is already hosts[0]" in problems
    assert "hosts[2].uri: 'qemu+ssh://root@h1/system' is already hosts[0]" in problems


def test_test_default_uri_is_refused_with_the_alternative() -> None:
    (problem,) = _problems(_base(hosts=[_host(uri="test:///default")]))
    assert problem.startswith("hosts[0].uri: test:///default is shared")
    assert "test:///abs/path/host.xml" in problem


def test_tcp_listener_without_tls_is_refused() -> None:
    (problem,) = _problems(_base(api={"tcp": "127.0.0.1:8443"}))
    assert problem.startswith("api: tcp needs tls_cert and tls_key")
    config = parse_config(_base(api={"tcp": "127.0.0.1:8443", "tls_cert": "/c", "tls_key": "/k"}))
    assert config.api.tcp == "127.0.0.1:8443"


def test_tcp_listener_address_must_be_host_port() -> None:
    (problem,) = _problems(_base(api={"tcp": "everywhere", "tls_cert": "/c", "tls_key": "/k"}))
    assert problem.startswith("api.tcp: 'everywhere' is not HOST:PORT")


@pytest.mark.parametrize("mode", ["0664", "0666", "0606", "0777"])
def test_socket_mode_open_to_others_is_refused(mode: str) -> None:
    (problem,) = _problems(_base(api={"socket_mode": mode}))
    assert problem.startswith(f"api.socket_mode: '{mode}' must not grant access to others")
    assert '"0660"' in problem


def test_socket_mode_must_be_octal() -> None:
    (problem,) = _problems(_base(api={"socket_mode": "rw-rw----"}))
    assert problem.startswith("api.socket_mode: 'rw-rw----' is not an octal mode")


@pytest.mark.parametrize("mode", ["0600", "0660", "0640"])
def test_private_socket_modes_are_accepted(mode: str) -> None:
    assert parse_config(_base(api={"socket_mode": mode})).api.socket_mode == mode


def test_synthetic_load_only_on_test_driver_hosts() -> None:
    (problem,) = _problems(_base(hosts=[_host(load="synthetic")]))
    assert problem.startswith('hosts[0]: load = "synthetic" is only for test-driver')
    assert 'use load = "measured"' in problem
    config = parse_config(_base(hosts=[_host(uri="test:///tmp/h1.xml", load="synthetic")]))
    assert config.hosts[0].load == "synthetic"


@pytest.mark.parametrize(
    "ref",
    [{"file": "/etc/ovtui/ipmi.pw", "env": "IPMI_PW"}, {}],
    ids=["both", "neither"],
)
def test_secret_ref_needs_exactly_one_of_file_or_env(ref: dict) -> None:
    (problem,) = _problems(_base(hosts=[_host(power={"password": ref})]))
    assert problem.startswith("hosts[0].power.password: give exactly one of file")


def test_clear_text_secret_is_refused_and_not_echoed() -> None:
    (problem,) = _problems(_base(hosts=[_host(power={"password": "hunter2"})]))
    assert problem.startswith("hosts[0].power.password: ")
    assert "hunter2" not in problem


def test_secret_refs_resolve_from_file_or_env(tmp_path: Path, monkeypatch) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    power = {"kind": "command", "on": ["on"], "off": ["off"], "password": {"file": str(secret)}}
    config = parse_config(_base(hosts=[_host(power=power)]))
    ref = config.hosts[0].power.password
    assert ref is not None and ref.resolve() == "s3cret"
    monkeypatch.setenv("OVTUI_TEST_PW", "from-env")
    assert SecretRef(env="OVTUI_TEST_PW").resolve() == "from-env"
    monkeypatch.delenv("OVTUI_TEST_PW")
    with pytest.raises(LookupError, match="OVTUI_TEST_PW is not set"):
        SecretRef(env="OVTUI_TEST_PW").resolve()
    with pytest.raises(LookupError, match="cannot read secret file"):
        SecretRef(file=tmp_path / "missing").resolve()


def test_power_command_needs_on_and_off() -> None:
    (problem,) = _problems(_base(hosts=[_host(power={"kind": "command", "on": ["x"]})]))
    assert problem.startswith('hosts[0].power: kind = "command" needs both on = [...] and off')


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    message = str(info.value)
    assert message.startswith(f"{missing}: no such file")
    assert "--config PATH" in message and "OVTUI_CONFIG" in message
    assert "appliance/ovtui.example.toml" in message


def test_config_path_comes_from_ovtui_config_when_not_given(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "from-env.toml"
    path.write_text(EXAMPLE.read_text())
    monkeypatch.setenv("OVTUI_CONFIG", str(path))
    assert load_config().source == str(path)


def test_invalid_toml_names_file_and_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[engine]\nstore_dir = "/var/lib/ovtui\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 2" in message


def test_loaded_file_problems_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ovtui.toml"
    path.write_text(EXAMPLE.read_text().replace('uri = "qemu', 'uril = "qemu', 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert f"{path}: hosts[0].uril: unknown key (valid keys: {HOST_KEYS})" in lines
    assert f"{path}: hosts[0].uri: Field required" in "\n".join(lines)
