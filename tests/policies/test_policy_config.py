"""Scheduling sections in ovtui.toml: parameters and the power-saving window are checked at load,
and a bad one stops the engine with exit code 2 and a line naming the key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ovtui.cli.main import main
from ovtui.config import ConfigError
from ovtui.config.load import parse_config
from ovtui.config.policy_params import parse_window


def _raw(**scheduling: Any) -> dict[str, Any]:
    return {
        "datacenters": [{"name": "dc1"}],
        "clusters": [
            {"name": "c0", "datacenter": "dc1", "cpu_model": "m"},
            {"name": "c1", "datacenter": "dc1", "cpu_model": "m", "scheduling": scheduling},
        ],
    }


def _problems(**scheduling: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(_raw(**scheduling), source="o.toml")
    assert info.value.exit_code == 2
    return str(info.value).splitlines()


def test_valid_scheduling_loads_with_defaults() -> None:
    params = {"LowUtilization": 10, "ConsolidationMode": "low_utilization"}
    cfg = parse_config(_raw(policy="power_saving", params=params), source="o.toml")
    sched = cfg.clusters[1].scheduling
    assert (sched.balance_interval_seconds, sched.power_saving_window) == (60, "22:00-06:00")
    assert sched.power_saving_interval_minutes == 5


def test_unknown_parameter_names_its_key_and_the_valid_names() -> None:
    (line,) = _problems(params={"HighUtilisation": 80})
    assert line.startswith(
        "o.toml: clusters[1].scheduling.params.HighUtilisation: unknown parameter"
    )
    assert "HighUtilization" in line and "MaxMigrationsPerRound" in line


def test_bad_values_are_each_reported() -> None:
    lines = _problems(params={"HighUtilization": 120, "HostsInReserve": -1})
    assert lines == [
        "o.toml: clusters[1].scheduling.params.HighUtilization: must be between 1 and 100 %, "
        "got 120",
        "o.toml: clusters[1].scheduling.params.HostsInReserve: must be between 0 and 1000 hosts, "
        "got -1",
    ]


def test_inconsistent_thresholds() -> None:
    low = {"ConsolidationMode": "low_utilization"}
    (line,) = _problems(params={"HighUtilization": 50, "LowUtilization": 60, **low})
    assert "params.LowUtilization: must be below HighUtilization (60 >= 50)" in line


def test_a_parameter_of_the_other_consolidation_mode_is_refused_not_ignored() -> None:
    (line,) = _problems(params={"LowUtilization": 20})
    assert line == (
        "o.toml: clusters[1].scheduling.params.LowUtilization: applies only with "
        'ConsolidationMode = "low_utilization", and the mode is "demand" (the default): '
        'set ConsolidationMode = "low_utilization" or remove LowUtilization'
    )
    (line,) = _problems(
        params={"ConsolidationMode": "low_utilization", "DemandCapacityRatioTarget": 50}
    )
    assert 'DemandCapacityRatioTarget: applies only with ConsolidationMode = "demand"' in line
    (line,) = _problems(params={"ConsolidationMode": "dpm"})
    assert line.endswith(
        'params.ConsolidationMode: must be "demand" or "low_utilization", got str \'dpm\''
    )
    (line,) = _problems(
        params={"DemandCapacityRatioTarget": 30, "DemandCapacityRatioTolerance": 30}
    )
    assert "the band 30% ± 30% must lie inside 0-100%" in line


@pytest.mark.parametrize("window", ["22-06", "25:00-06:00", "22:00-22:00", "night"])
def test_bad_window(window: str) -> None:
    (line,) = _problems(power_saving_window=window)
    assert line.startswith("o.toml: clusters[1].scheduling.power_saving_window: ")


def test_bad_interval_names_the_key() -> None:
    (line,) = _problems(balance_interval_seconds=1)
    assert line.startswith("o.toml: clusters[1].scheduling.balance_interval_seconds: ")


def test_the_engine_refuses_to_start_with_exit_code_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ovtui.toml"
    path.write_text(
        '[[datacenters]]\nname = "dc1"\n[[clusters]]\nname = "c1"\ndatacenter = "dc1"\n'
        'cpu_model = "m"\n[clusters.scheduling]\npolicy = "evenly_distributed"\n'
        "params = { HighUtilization = 80, MaxMigrations = 3 }\n"
    )
    assert main(["--config", str(path), "engine"]) == 2
    err = capsys.readouterr().err
    assert "clusters[0].scheduling.params.MaxMigrations: unknown parameter" in err


def test_windows_cross_midnight_and_give_cron_hours() -> None:
    night = parse_window("22:00-06:00")
    assert night.contains(datetime(2025, 1, 1, 23, 30)) and night.contains(
        datetime(2025, 1, 1, 5, 59)
    )
    assert not night.contains(datetime(2025, 1, 1, 6, 0)) and not night.contains(
        datetime(2025, 1, 1, 12)
    )
    assert night.hours() == [0, 1, 2, 3, 4, 5, 22, 23]
    lunch = parse_window("12:30-13:15")
    assert lunch.hours() == [12, 13] and str(lunch) == "12:30-13:15"
    assert not lunch.contains(datetime(2025, 1, 1, 12, 29))
    assert (
        parse_window("always").contains(datetime(2025, 1, 1, 12))
        and len(parse_window("always").hours()) == 24
    )
