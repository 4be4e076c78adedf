"""Scheduling parameters per cluster: oVirt-like names, defaults, ranges, and one parsed object.

The table is the single source of truth: the config check (ovtui/config/policy_params.py), the
planners and the README's parameter list all read it. Values are numbers; booleans and strings
are refused, so `HighUtilization = "80"` is an error rather than a silent surprise. The one
exception, ConsolidationMode, takes one of its listed words and nothing else.

Parameters that only one consolidation mode reads (LowUtilization and
MinFreeMemoryForUnderUtilized for "low_utilization", DemandCapacityRatio* for "demand") are
refused when given with the other mode: a value that would be silently ignored is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    default: float | str
    minimum: float
    maximum: float
    unit: str
    integer: bool
    doc: str
    choices: tuple[str, ...] = ()  # a word parameter: one of these, nothing else


#: Power-saving consolidation modes (ConsolidationMode); the first is the default.
MODES = ("demand", "low_utilization")
#: Parameters only one mode reads.
MODE_ONLY = {
    "LowUtilization": "low_utilization",
    "MinFreeMemoryForUnderUtilized": "low_utilization",
    "DemandCapacityRatioTarget": "demand",
    "DemandCapacityRatioTolerance": "demand",
}


PARAMS: dict[str, ParamSpec] = {
    p.name: p
    for p in (
        ParamSpec("HighUtilization", 80, 1, 100, "%", True,
                  "CPU above this is over-utilised; no move may take a host above it"),
        ParamSpec("LowUtilization", 20, 0, 99, "%", True,
                  "CPU below this makes a host a candidate for draining (power saving)"),
        ParamSpec("CpuOverCommitDurationMinutes", 2, 0, 1440, "min", False,
                  "how long a host must stay above HighUtilization before it is relieved"),
        ParamSpec("MaxFreeMemoryForOverUtilized", 1024, 0, 1 << 24, "MiB", True,
                  "a host with less free memory (within over-commit) is over-utilised; "
                  "targets keep at least this much free (0 = memory never counts)"),
        ParamSpec("MinFreeMemoryForUnderUtilized", 0, 0, 1 << 24, "MiB", True,
                  "a host needs at least this much free memory to count as under-utilised"),
        ParamSpec("HostsInReserve", 0, 0, 1000, "hosts", True,
                  "empty hosts power saving keeps up and in service"),
        ParamSpec("MaxMigrationsPerRound", 5, 1, 1000, "migrations", True,
                  "migrations one plan may contain"),
        ParamSpec("MaxParallelMigrations", 2, 1, 64, "migrations", True,
                  "migrations the executor runs at once in the cluster"),
        ParamSpec("MaxVcpusPerCpu", 4.0, 0.1, 64, "vCPU/CPU", False,
                  "vCPU over-commit: no move may put more vCPUs than this many per host CPU"),
        ParamSpec("MinPowerActionIntervalMinutes", 30, 0, 10080, "min", False,
                  "a host is not released again this soon after its last power action"),
        ParamSpec("ConsolidationMode", MODES[0], 0, 0, "", False,
                  "power saving: demand (keep the fewest hosts that carry the cluster's demand "
                  "inside the DemandCapacityRatio band) or low_utilization (oVirt: drain hosts "
                  "under LowUtilization)", MODES),
        ParamSpec("DemandCapacityRatioTarget", 63, 10, 95, "%", True,
                  "demand mode: the cluster's CPU demand over the CPUs in service aimed at"),
        ParamSpec("DemandCapacityRatioTolerance", 18, 0, 50, "%", True,
                  "demand mode: hosts are released below target - tolerance, until at most "
                  "target + tolerance; woken above it, back to the target"),
    )
}  # fmt: skip


class ParamError(ValueError):
    """One bad parameter; `key` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key, self.message = key, message


@dataclass(frozen=True, slots=True)
class Params:
    """Parsed parameters in planner units: fractions for %, seconds for minutes."""

    high: float = 0.80
    low: float = 0.20
    duration_s: float = 120.0
    max_free_memory_over_mib: int = 1024
    min_free_memory_under_mib: int = 0
    hosts_in_reserve: int = 0
    max_migrations: int = 5
    parallel_migrations: int = 2
    max_vcpus_per_cpu: float = 4.0
    power_interval_s: float = 1800.0
    mode: str = MODES[0]
    target: float = 0.63
    tolerance: float = 0.18

    @property
    def band_low(self) -> float:
        """Demand mode: below this demand/capacity ratio, hosts are released."""
        return self.target - self.tolerance

    @property
    def band_high(self) -> float:
        """Demand mode: hosts are released only while the ratio stays at or below this, and
        woken above it (never above HighUtilization, which caps every host)."""
        return min(self.target + self.tolerance, self.high)

    def describe(self) -> dict[str, float | str]:
        """Back to the operator's names and units (for plans and the API); parameters the
        other consolidation mode reads are left out, since they do nothing here."""
        shown = self._all()
        return {k: v for k, v in shown.items() if MODE_ONLY.get(k, self.mode) == self.mode}

    def _all(self) -> dict[str, float | str]:
        return {
            "HighUtilization": round(self.high * 100, 3),
            "LowUtilization": round(self.low * 100, 3),
            "CpuOverCommitDurationMinutes": self.duration_s / 60,
            "MaxFreeMemoryForOverUtilized": self.max_free_memory_over_mib,
            "MinFreeMemoryForUnderUtilized": self.min_free_memory_under_mib,
            "HostsInReserve": self.hosts_in_reserve,
            "MaxMigrationsPerRound": self.max_migrations,
            "MaxParallelMigrations": self.parallel_migrations,
            "MaxVcpusPerCpu": self.max_vcpus_per_cpu,
            "MinPowerActionIntervalMinutes": self.power_interval_s / 60,
            "ConsolidationMode": self.mode,
            "DemandCapacityRatioTarget": round(self.target * 100, 3),
            "DemandCapacityRatioTolerance": round(self.tolerance * 100, 3),
        }


def _value_error(spec: ParamSpec, value: Any) -> str | None:
    if spec.choices:
        if value not in spec.choices:
            words = " or ".join(f'"{c}"' for c in spec.choices)
            return f"must be {words}, got {type(value).__name__} {value!r}"
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number ({spec.unit}), got {type(value).__name__} {value!r}"
    if spec.integer and not float(value).is_integer():
        return f"must be a whole number of {spec.unit}, got {value!r}"
    if not spec.minimum <= value <= spec.maximum:
        return f"must be between {spec.minimum:g} and {spec.maximum:g} {spec.unit}, got {value!r}"
    return None


def param_errors(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(parameter name, problem) for every unknown name, bad value or inconsistent pair."""
    errors: list[tuple[str, str]] = []
    for key, value in raw.items():
        spec = PARAMS.get(key)
        if spec is None:
            errors.append((key, f"unknown parameter (valid: {', '.join(PARAMS)})"))
            continue
        problem = _value_error(spec, value)
        if problem:
            errors.append((key, problem))
    if not errors:
        errors = _consistency(raw)
    return errors


def _consistency(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    def get(name: str) -> Any:
        return raw.get(name, PARAMS[name].default)

    errors: list[tuple[str, str]] = []
    mode = get("ConsolidationMode")
    for name, only in MODE_ONLY.items():
        if name in raw and only != mode:
            how = "" if "ConsolidationMode" in raw else " (the default)"
            errors.append((name, f'applies only with ConsolidationMode = "{only}", and the mode '
                           f'is "{mode}"{how}: set ConsolidationMode = "{only}" or remove '
                           f"{name}"))  # fmt: skip
    low, high = get("LowUtilization"), get("HighUtilization")
    if mode == "low_utilization" and low >= high:
        errors.append(("LowUtilization", f"must be below HighUtilization ({low:g} >= {high:g})"))
    target, tolerance = get("DemandCapacityRatioTarget"), get("DemandCapacityRatioTolerance")
    if mode == "demand" and (target - tolerance <= 0 or target + tolerance > 100):
        errors.append(("DemandCapacityRatioTolerance",
                       f"the band {target:g}% ± {tolerance:g}% must lie inside 0-100% "
                       f"(above 0, at most 100)"))  # fmt: skip
    return errors


def parse_params(raw: Mapping[str, Any]) -> Params:
    """Parsed, with defaults for what is missing; raises ParamError on the first problem."""
    problems = param_errors(raw)
    if problems:
        raise ParamError(*problems[0])

    def get(name: str) -> float:
        return float(raw.get(name, PARAMS[name].default))

    mode = str(raw.get("ConsolidationMode", MODES[0]))

    return Params(
        high=get("HighUtilization") / 100,
        low=get("LowUtilization") / 100,
        duration_s=get("CpuOverCommitDurationMinutes") * 60,
        max_free_memory_over_mib=int(get("MaxFreeMemoryForOverUtilized")),
        min_free_memory_under_mib=int(get("MinFreeMemoryForUnderUtilized")),
        hosts_in_reserve=int(get("HostsInReserve")),
        max_migrations=int(get("MaxMigrationsPerRound")),
        parallel_migrations=int(get("MaxParallelMigrations")),
        max_vcpus_per_cpu=get("MaxVcpusPerCpu"),
        power_interval_s=get("MinPowerActionIntervalMinutes") * 60,
        mode=mode,
        target=get("DemandCapacityRatioTarget") / 100,
        tolerance=get("DemandCapacityRatioTolerance") / 100,
    )
