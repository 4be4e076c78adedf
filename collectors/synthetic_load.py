"""SYNTHETIC load model for VMs on libvirt's test driver (demo fleet, tests, benchmarks).

This is not measured data. The test driver reports wall-clock time as every domain's CPU time,
so hosts configured with ``load = "synthetic"`` take VM load from this model instead, and
everything derived from it must carry ``LOAD_SOURCE`` ("synthetic") so nobody mistakes it for
measurements.

The model is a deterministic, pure function of (seed, VM name, role, unix time):

* a smooth daily curve per role over the UTC hour of day (web/api peak in the afternoon,
  batch/etl/ci at night, databases and caches steady-ish, jump hosts nearly idle);
* per-VM phase shift, amplitude and offset derived from a stable hash of the name (blake2b, never
  Python's per-process randomised ``hash()``), so two VMs of one role do not move in lockstep;
* small smooth noise (two sines with per-VM periods of minutes);
* role ``"hot"``: VMs that sit at 90-100% all day (runaway workloads the policies should notice).

Per-VM parameters are memoised on the instance; a call costs about a microsecond.
"""

from __future__ import annotations

import hashlib
import math
from typing import NamedTuple

LOAD_SOURCE = "synthetic"

_DAY = 86400.0
_TAU = 2.0 * math.pi


class RoleProfile(NamedTuple):
    """A role's daily curve.

    cpu = base + amplitude * ((1 + cos(2pi (hour - peak_hour) / 24)) / 2) ** sharpness + noise
    """

    base: float
    amplitude: float
    peak_hour: float
    sharpness: float
    noise: float  # amplitude of the minute-scale wiggle
    jitter: float  # per-VM offset range (+-)
    memory_base: float  # memory used = memory_base + memory_per_cpu * cpu
    memory_per_cpu: float


ROLE_PROFILES: dict[str, RoleProfile] = {
    "web": RoleProfile(0.05, 0.50, 14.0, 1.5, 0.03, 0.04, 0.35, 0.30),
    "api": RoleProfile(0.06, 0.45, 13.5, 1.5, 0.03, 0.04, 0.40, 0.30),
    "db": RoleProfile(0.22, 0.18, 11.0, 1.0, 0.02, 0.05, 0.80, 0.10),
    "cache": RoleProfile(0.12, 0.22, 14.0, 1.0, 0.02, 0.03, 0.70, 0.15),
    "queue": RoleProfile(0.15, 0.25, 13.0, 1.0, 0.03, 0.04, 0.55, 0.20),
    "search": RoleProfile(0.15, 0.25, 15.0, 1.0, 0.03, 0.04, 0.70, 0.15),
    "ci": RoleProfile(0.04, 0.45, 1.0, 2.0, 0.05, 0.03, 0.25, 0.50),
    "batch": RoleProfile(0.03, 0.50, 2.5, 2.0, 0.04, 0.03, 0.30, 0.50),
    "etl": RoleProfile(0.03, 0.55, 3.0, 2.5, 0.04, 0.03, 0.30, 0.50),
    "monitoring": RoleProfile(0.15, 0.05, 12.0, 1.0, 0.02, 0.03, 0.60, 0.10),
    "infra": RoleProfile(0.04, 0.04, 12.0, 1.0, 0.01, 0.02, 0.30, 0.10),
    "jump": RoleProfile(0.01, 0.04, 11.0, 2.0, 0.01, 0.01, 0.15, 0.10),
    "hot": RoleProfile(0.93, 0.03, 15.0, 1.0, 0.015, 0.02, 0.60, 0.30),
}
#: Any role not listed above.
DEFAULT_PROFILE = RoleProfile(0.15, 0.15, 13.0, 1.0, 0.02, 0.04, 0.40, 0.20)
KNOWN_ROLES = frozenset(ROLE_PROFILES)


class _VmParams(NamedTuple):
    base: float
    amplitude: float
    peak_hour: float
    sharpness: float
    w1: float  # noise angular frequencies (rad/s) and phases
    p1: float
    w2: float
    p2: float
    noise: float
    memory_base: float
    memory_per_cpu: float


def _unit_floats(seed: int, name: str) -> tuple[float, ...]:
    """Eight stable floats in [0, 1) from (seed, name)."""
    digest = hashlib.blake2b(f"{seed}\0{name}".encode(), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 2], "big") / 65536.0 for i in range(0, 16, 2))


def _clamp(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


class SyntheticLoad:
    """Deterministic synthetic VM load. Same (seed, name, role, t) -> same value, in any process."""

    source = LOAD_SOURCE

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._params: dict[tuple[str, str], _VmParams] = {}

    def _vm(self, vm_name: str, role: str) -> _VmParams:
        key = (vm_name, role)
        params = self._params.get(key)
        if params is None:
            prof = ROLE_PROFILES.get(role.lower(), DEFAULT_PROFILE)
            u = _unit_floats(self.seed, vm_name)
            params = _VmParams(
                base=prof.base + (u[0] - 0.5) * 2.0 * prof.jitter,
                amplitude=prof.amplitude * (0.75 + 0.5 * u[1]),
                peak_hour=prof.peak_hour + (u[2] - 0.5) * 3.0,
                sharpness=prof.sharpness,
                w1=_TAU / (300.0 + 480.0 * u[3]),  # periods of 5..13 minutes
                p1=_TAU * u[4],
                w2=_TAU / (1020.0 + 1440.0 * u[5]),  # and 17..41 minutes
                p2=_TAU * u[6],
                noise=prof.noise,
                memory_base=prof.memory_base + (u[7] - 0.5) * 0.1,
                memory_per_cpu=prof.memory_per_cpu,
            )
            self._params[key] = params
        return params

    @staticmethod
    def _cpu(p: _VmParams, t: float) -> float:
        hour = (t % _DAY) / 3600.0
        shape = 0.5 + 0.5 * math.cos(_TAU * (hour - p.peak_hour) / 24.0)
        wiggle = p.noise * (0.6 * math.sin(p.w1 * t + p.p1) + 0.4 * math.sin(p.w2 * t + p.p2))
        return _clamp(p.base + p.amplitude * shape**p.sharpness + wiggle)

    def vm_cpu(self, vm_name: str, role: str, t: float) -> float:
        """Fraction (0..1) of the VM's vCPUs busy at unix time ``t`` (synthetic)."""
        return self._cpu(self._vm(vm_name, role), t)

    def vm_memory_used(self, vm_name: str, role: str, t: float) -> float:
        """Fraction (0..1) of the VM's memory in use at unix time ``t`` (synthetic)."""
        p = self._vm(vm_name, role)
        return _clamp(p.memory_base + p.memory_per_cpu * self._cpu(p, t))
