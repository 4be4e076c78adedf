"""Premises re-checked before each step (pure), how steps are batched, and power commands."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ovtui.config.schema import HostConfig, PowerConfig
from ovtui.executor.plan_runner import batches
from ovtui.executor.power import run_power_command
from ovtui.fleet.errors import FleetError
from ovtui.model import VmState
from policies.params import parse_params
from policies.plan import Step, StepKind
from policies.premises import host_premise, migrate_premise
from tests.policies.helpers import host, snap, vm

P = parse_params({})


def _move(name: str, src: str = "a", dst: str = "b") -> Step:
    return Step(StepKind.MIGRATE, src, "r", f"u-{name}", name, dst, 1024)


def test_a_migration_premise_holds_while_nothing_changed() -> None:
    s = snap([host("a"), host("b")], [vm("v", "a")])
    assert migrate_premise(s, _move("v"), P) is None


def test_the_vm_moved_vanished_or_stopped() -> None:
    s = snap([host("a"), host("b"), host("c")], [vm("v", "c")])
    assert migrate_premise(s, _move("v"), P) == "v now runs on c, not a"
    assert migrate_premise(snap([host("a"), host("b")], []), _move("v"), P) == "v no longer exists"
    off = snap([host("a"), host("b")], [vm("v", "a", state=VmState.SHUTOFF)])
    assert migrate_premise(off, _move("v"), P) == "v is shutoff"


def test_the_target_no_longer_fits() -> None:
    busy = [vm(f"b{i}", "b", vcpus=1, usage=1.0) for i in range(12)]
    s = snap([host("a"), host("b")], [vm("v", "a", usage=1.0), *busy])
    why = migrate_premise(s, replace(_move("v"), target_cpu_after=0.5), P)
    assert why == "b would reach CPU 88% > 80% (planned 50%)"
    maint = snap([host("a"), host("b", maintenance=True)], [vm("v", "a")])
    assert migrate_premise(maint, _move("v"), P) == "b is in maintenance"


def test_moves_in_flight_count_as_done() -> None:
    s = snap([host("a"), host("b", mem=10240)], [vm("v", "a", mem=6144), vm("w", "a", mem=6144)])
    assert migrate_premise(s, _move("w"), P) is None
    why = migrate_premise(s, _move("w"), P, in_flight=[_move("v")])
    assert why is not None and "w needs 6 GiB, b has 4 GiB left" in why


def test_affinity_members_of_the_same_plan_count_for_each_other() -> None:
    s = snap(
        [host("a"), host("b")], [vm("x", "a", affinity_group="g"), vm("y", "a", affinity_group="g")]
    )
    assert migrate_premise(s, _move("x"), P) is not None
    assert migrate_premise(s, _move("x"), P, plan_moves=[_move("x"), _move("y")]) is None


def test_host_premises() -> None:
    s = snap([host("a"), host("m", maintenance=True)], [vm("v", "a")])
    maint = Step(StepKind.MAINTENANCE, "a", "r")
    assert host_premise(s, maint) == "a still runs v"
    assert host_premise(snap([host("a")], []), maint) is None
    assert host_premise(s, Step(StepKind.ACTIVATE, "a", "r")) == (
        "a is no longer in maintenance (someone returned it to service)"
    )
    assert host_premise(s, Step(StepKind.ACTIVATE, "m", "r")) is None
    assert host_premise(s, Step(StepKind.MAINTENANCE, "m", "r")) == "m is already in maintenance"


def test_consecutive_migrations_form_one_batch_host_steps_stand_alone() -> None:
    m, h = _move("v"), Step(StepKind.MAINTENANCE, "a", "r")
    steps = [m, m, h, Step(StepKind.POWER_OFF, "a", "r"), m]
    assert batches(range(5), steps) == [[0, 1], [2], [3], [4]]
    assert batches([0, 4], steps) == [[0], [4]]


def _cfg(tmp_path: Path, off: list[str], **power: object) -> HostConfig:
    return HostConfig(name="h1", cluster="c", uri="test:///x",
                      power=PowerConfig(kind="command", on=["true"], off=off, **power))  # type: ignore[arg-type]  # fmt: skip


async def test_power_command_runs_without_a_shell_and_returns_its_output(tmp_path: Path) -> None:
    script = "import os; print('off', os.environ['OVTUI_HOST'], os.environ['OVTUI_POWER_ACTION'])"
    out = await run_power_command(_cfg(tmp_path, [sys.executable, "-c", script]), "off")
    assert out["output"].strip() == "off h1 off"
    assert out["result"].endswith("exited 0: off h1 off")


async def test_power_command_failures_and_timeouts_are_fleet_errors(tmp_path: Path) -> None:
    fail = [sys.executable, "-c", "import sys; print('bmc says no'); sys.exit(3)"]
    with pytest.raises(FleetError, match="exited with 3: bmc says no"):
        await run_power_command(_cfg(tmp_path, fail), "off")
    slow = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(FleetError, match="did not finish within 0 s") as info:
        await run_power_command(_cfg(tmp_path, slow), "off", timeout=0.3)
    assert info.value.kind == "timeout"
    with pytest.raises(FleetError, match="cannot run '/nonexistent'"):
        await run_power_command(_cfg(tmp_path, ["/nonexistent"]), "off")
    none = HostConfig(name="h1", cluster="c", uri="test:///x")
    with pytest.raises(FleetError, match="no power off command"):
        await run_power_command(none, "off")


async def test_the_password_goes_in_the_environment_only(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BMC_PW", "s3cret")
    show = [
        sys.executable,
        "-c",
        "import os, sys; print(os.environ['OVTUI_POWER_PASSWORD'], len(sys.argv))",
    ]
    out = await run_power_command(_cfg(tmp_path, show, password={"env": "BMC_PW"}), "off")
    assert out["output"].strip() == "s3cret 1"
