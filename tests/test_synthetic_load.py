"""The synthetic load model: deterministic, bounded, shaped by role and time of day."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors import synthetic_load
from collectors.synthetic_load import KNOWN_ROLES, LOAD_SOURCE, SyntheticLoad
from ovtui.testdriver_fleet import demo_spec

DAY0 = 1_700_006_400.0  # 2023-11-15 00:00 UTC
HOUR = 3600.0
ROOT = Path(__file__).resolve().parents[1]


def at(hour: float, day: int = 0) -> float:
    return DAY0 + day * 86400.0 + hour * HOUR


def test_labelled_synthetic() -> None:
    assert LOAD_SOURCE == "synthetic"
    assert SyntheticLoad.source == "synthetic"
    assert "SYNTHETIC" in (synthetic_load.__doc__ or "")


def test_deterministic_across_instances_and_processes() -> None:
    probes = [("web-frontend-01", "web", at(14.25)), ("etl-nightly-02", "etl", at(2.5, 3))]
    a, b = SyntheticLoad(), SyntheticLoad()
    values = [a.vm_cpu(*p) for p in probes] + [a.vm_memory_used(*p) for p in probes]
    assert values == [b.vm_cpu(*p) for p in probes] + [b.vm_memory_used(*p) for p in probes]
    assert values == [a.vm_cpu(*p) for p in probes] + [a.vm_memory_used(*p) for p in probes]
    code = (
        "import json, sys\n"
        "from collectors.synthetic_load import SyntheticLoad\n"
        "L = SyntheticLoad()\n"
        "p = json.loads(sys.argv[1])\n"
        "print(json.dumps([L.vm_cpu(*x) for x in p] + [L.vm_memory_used(*x) for x in p]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(probes)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert json.loads(out.stdout) == values


def test_seed_and_name_change_the_curve() -> None:
    t = at(14)
    assert SyntheticLoad(0).vm_cpu("web-01", "web", t) != SyntheticLoad(1).vm_cpu(
        "web-01", "web", t
    )
    load = SyntheticLoad()
    assert load.vm_cpu("web-01", "web", t) != load.vm_cpu("web-02", "web", t)


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(min_size=0, max_size=40),
    role=st.one_of(st.sampled_from(sorted(KNOWN_ROLES)), st.text(max_size=10)),
    t=st.floats(min_value=-1e10, max_value=1e10, allow_nan=False),
    seed=st.integers(-(2**40), 2**40),
)
def test_bounds(name: str, role: str, t: float, seed: int) -> None:
    load = SyntheticLoad(seed)
    assert 0.0 <= load.vm_cpu(name, role, t) <= 1.0
    assert 0.0 <= load.vm_memory_used(name, role, t) <= 1.0


def test_daily_shape_per_role() -> None:
    load = SyntheticLoad()
    vms = [vm for _, vm in demo_spec().vms()]
    for day in range(3):
        for vm in vms:
            day_cpu = load.vm_cpu(vm.name, vm.role, at(14, day))
            night_cpu = load.vm_cpu(vm.name, vm.role, at(3, day))
            if vm.role in ("web", "api"):
                assert day_cpu > night_cpu + 0.2, vm.name
            elif vm.role in ("batch", "etl", "ci"):
                assert night_cpu > day_cpu + 0.2, vm.name
            elif vm.role == "db":
                assert abs(day_cpu - night_cpu) < 0.3, vm.name
            elif vm.role == "jump":
                assert max(day_cpu, night_cpu) < 0.1, vm.name


def test_curves_are_smooth() -> None:
    load = SyntheticLoad()
    for role in ("web", "batch", "db", "hot"):
        series = [load.vm_cpu(f"{role}-x", role, DAY0 + s) for s in range(0, 86400, 60)]
        steps = [abs(b - a) for a, b in itertools.pairwise(series)]
        assert max(steps) < 0.05, role


def test_hot_vms_stay_high() -> None:
    load = SyntheticLoad()
    hot = [vm.name for _, vm in demo_spec().vms() if vm.role == "hot"]
    assert len(hot) >= 3
    for name in hot:
        for minute in range(0, 24 * 60, 17):
            assert 0.88 <= load.vm_cpu(name, "hot", DAY0 + minute * 60) <= 1.0


def test_demo_roles_are_known_and_one_host_busy_one_idle() -> None:
    spec = demo_spec()
    assert {vm.role for _, vm in spec.vms()} <= KNOWN_ROLES
    load = SyntheticLoad()

    def demand(host_name: str, t: float) -> float:
        host = next(h for h in spec.hosts if h.name == host_name)
        busy = sum(load.vm_cpu(vm.name, vm.role, t) * vm.vcpus for vm in host.vms if vm.running)
        return busy / host.cpus

    hours = [at(h) for h in range(24)]
    others = [h.name for h in spec.hosts if h.name not in ("kvm-a04", "kvm-b03")]
    assert min(demand("kvm-a04", t) for t in hours) >= 0.85
    assert max(demand("kvm-b03", t) for t in hours) <= 0.10
    assert max(demand(name, t) for name in others for t in hours) < 0.80
