"""The disk-move stage machine against a fake driver: order, undo on failure, restarts."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from ovtui.storage.move_model import DiskMove, Endpoint
from ovtui.storage.move_runner import MoveFailed, MoveRunner, Progress


class Killed(BaseException):
    """The engine dies here: nothing after this runs, not even cleanup."""


class FakeDriver:
    """One VM disk and two volumes, with the effects each call would have on a host."""

    def __init__(self, fail: dict[str, Exception] | None = None, kill: str = "") -> None:
        self.fail, self.kill = fail or {}, kill
        self.calls: list[str] = []
        self.vm_on = "source"
        self.source_exists, self.target_exists = True, False
        self.job = "none"  # none | running | ready

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name == self.kill:
            self.kill = ""  # the restarted engine gets past it
            raise Killed(name)
        if name in self.fail:
            raise self.fail.pop(name)

    async def create_target(self, m: DiskMove) -> DiskMove:
        self._call("create_target")
        self.target_exists = True
        return replace(m, dest=replace(m.dest, path="/dst/d.qcow2"), target_created=True)

    async def start_copy(self, m: DiskMove) -> None:
        self._call("start_copy")
        self.job = "running"

    async def wait_ready(self, m: DiskMove, progress: Progress) -> None:
        progress(512, 1024)
        self._call("wait_ready")
        progress(1024, 1024)
        self.job = "ready"

    async def pivot(self, m: DiskMove) -> None:
        self._call("pivot")
        self.vm_on, self.job = "target", "none"

    async def copy_volume(self, m: DiskMove, progress: Progress) -> DiskMove:
        self.target_exists = True  # created before the copy fails or the engine dies
        self._call("copy_volume")
        progress(1024, 1024)
        return replace(m, dest=replace(m.dest, path="/dst/d.qcow2"))

    async def update_definition(self, m: DiskMove) -> None:
        self._call("update_definition")
        self.vm_on = "target"

    async def delete_source(self, m: DiskMove) -> None:
        self._call("delete_source")
        self.source_exists = False

    async def cancel_copy(self, m: DiskMove) -> None:
        self._call("cancel_copy")
        self.job = "none"

    async def delete_target(self, m: DiskMove) -> None:
        self._call("delete_target")
        self.target_exists = False

    async def job_running(self, m: DiskMove) -> bool:
        self.calls.append("job_running?")
        return self.job != "none"

    async def uses_target(self, m: DiskMove) -> bool:
        self.calls.append("uses_target?")
        return self.vm_on == "target"


def _move(live: bool = True) -> DiskMove:
    return DiskMove(
        id="m1",
        vm="vm1",
        vm_uuid="u1",
        host="h1",
        target_dev="vdb",
        live=live,
        source=Endpoint("shared", "d.qcow2", "/src/d.qcow2"),
        dest=Endpoint("block", "d.qcow2"),
        capacity=1024,
    )


class Store:
    def __init__(self) -> None:
        self.saved: list[DiskMove] = []

    def save(self, m: DiskMove) -> None:
        self.saved.append(m)

    @property
    def stages(self) -> list[str]:
        out: list[str] = []
        for m in self.saved:
            if not out or out[-1] != m.stage:
                out.append(m.stage)
        return out

    @property
    def last(self) -> DiskMove:
        return self.saved[-1]


def _run(driver: FakeDriver, move: DiskMove, store: Store, resume: bool = False) -> DiskMove:
    runner = MoveRunner(driver, store.save, clock=lambda: 100.0)
    return asyncio.run(runner.resume(move) if resume else runner.run(move))


def test_a_live_move_goes_through_every_stage_and_deletes_the_source_last() -> None:
    driver, store = FakeDriver(), Store()
    done = _run(driver, _move(), store)
    assert store.stages == [
        "target_created",
        "copying",
        "ready",
        "pivoted",
        "definition_updated",
        "source_deleted",
    ]
    assert driver.calls == [
        "create_target",
        "start_copy",
        "wait_ready",
        "pivot",
        "update_definition",
        "delete_source",
    ]
    assert (done.bytes_done, done.bytes_total, done.dest.path) == (1024, 1024, "/dst/d.qcow2")
    assert done.finished and done.finished_at == 100.0 and not done.error
    assert [s for s, _ in done.history][-1] == "source_deleted"
    assert driver.vm_on == "target" and not driver.source_exists and driver.target_exists


@pytest.mark.parametrize("step", ["start_copy", "wait_ready", "pivot"])
def test_a_failure_before_the_pivot_leaves_the_vm_on_its_source_and_removes_the_target(
    step: str,
) -> None:
    driver, store = (
        FakeDriver(fail={step: RuntimeError("block job FAILED (size mismatch)")}),
        Store(),
    )
    with pytest.raises(MoveFailed) as info:
        _run(driver, _move(), store)
    failed = info.value.move
    assert failed.stage == "failed" and store.stages[-2:] == ["cleaning", "failed"]
    assert failed.error == "block job FAILED (size mismatch)"
    assert driver.calls[-2:] == ["cancel_copy", "delete_target"]
    assert "delete_source" not in driver.calls
    assert driver.vm_on == "source" and driver.source_exists and not driver.target_exists


def test_a_target_that_could_not_be_created_is_not_deleted() -> None:
    driver = FakeDriver(fail={"create_target": RuntimeError("storage domain block is full")})
    store = Store()
    with pytest.raises(MoveFailed) as info:
        _run(driver, _move(), store)
    assert info.value.move.error == "storage domain block is full"
    assert "delete_target" not in driver.calls and driver.source_exists


def test_a_failure_after_the_pivot_keeps_the_source_and_a_restart_finishes() -> None:
    driver = FakeDriver(fail={"update_definition": RuntimeError("defineXML timed out")})
    store = Store()
    with pytest.raises(MoveFailed) as info:
        _run(driver, _move(), store)
    stuck = info.value.move
    assert (stuck.stage, stuck.error) == ("pivoted", "defineXML timed out")
    assert "delete_target" not in driver.calls and driver.source_exists  # nothing undone
    done = _run(driver, stuck, store, resume=True)
    assert done.stage == "source_deleted" and not driver.source_exists


def test_an_engine_killed_mid_copy_resumes_the_copy_the_host_kept_running() -> None:
    driver, store = FakeDriver(kill="wait_ready"), Store()
    with pytest.raises(Killed):
        _run(driver, _move(), store)
    assert store.last.stage == "copying" and driver.job == "running"
    driver.calls.clear()
    done = _run(driver, store.last, store, resume=True)
    assert driver.calls[0] == "job_running?" and "cancel_copy" not in driver.calls
    assert done.stage == "source_deleted" and driver.vm_on == "target"


def test_an_engine_killed_mid_copy_cleans_up_when_the_job_is_gone() -> None:
    driver, store = FakeDriver(kill="wait_ready"), Store()
    with pytest.raises(Killed):
        _run(driver, _move(), store)
    driver.job = "none"  # the host restarted too: the block job went with it
    with pytest.raises(MoveFailed) as info:
        _run(driver, store.last, store, resume=True)
    assert info.value.move.stage == "failed"
    assert "engine stopped in stage copying" in info.value.move.error
    assert driver.vm_on == "source" and driver.source_exists and not driver.target_exists


def test_an_engine_killed_during_the_pivot_records_it_and_finishes() -> None:
    driver, store = FakeDriver(), Store()
    driver.pivot = _pivot_then_die(driver)  # type: ignore[method-assign]
    with pytest.raises(Killed):
        _run(driver, _move(), store)
    assert store.last.stage == "ready" and driver.vm_on == "target"
    done = _run(FakeDriverOn(driver), store.last, store, resume=True)
    assert "pivoted" in [s for s, _ in done.history] and done.stage == "source_deleted"
    assert not driver.source_exists


def _pivot_then_die(driver: FakeDriver):  # type: ignore[no-untyped-def]
    async def pivot(m: DiskMove) -> None:
        driver.vm_on, driver.job = "target", "none"
        raise Killed("pivot")

    return pivot


def FakeDriverOn(driver: FakeDriver) -> FakeDriver:
    """The same host state, seen by a restarted engine (pivot must not be called again)."""
    driver.fail["pivot"] = RuntimeError("pivot called twice")
    return driver


def test_a_cold_move_copies_then_updates_the_definition_then_deletes_the_source() -> None:
    driver, store = FakeDriver(), Store()
    done = _run(driver, _move(live=False), store)
    assert store.stages == ["copying", "ready", "definition_updated", "source_deleted"]
    assert driver.calls == ["copy_volume", "update_definition", "delete_source"]
    assert done.bytes_done == 1024


def test_a_cold_copy_cut_short_by_a_restart_is_undone() -> None:
    driver, store = FakeDriver(kill="copy_volume"), Store()
    with pytest.raises(Killed):
        _run(driver, _move(live=False), store)
    assert store.last.stage == "copying" and driver.target_exists
    with pytest.raises(MoveFailed):
        _run(driver, store.last, store, resume=True)
    assert not driver.target_exists and driver.source_exists and driver.vm_on == "source"


def test_a_move_round_trips_through_its_stored_form() -> None:
    m = _move().at("copying", 5.0, bytes_done=3)
    assert DiskMove.from_dict(m.as_dict()) == m
