"""Stopping the engine while a job runs is normal: it must not log an error with a traceback."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ovtui.jobs.scheduler import JobSpec, PolicyScheduler
from ovtui.store import Store


async def test_stop_while_a_job_runs_logs_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    started = asyncio.Event()
    samples: list[float] = []

    async def run(cluster: str, kind: str, trigger: str) -> dict[str, Any]:
        started.set()
        await asyncio.sleep(3600)  # still running when the engine stops
        return {"result": "done"}

    store = Store.open(tmp_path / "store")
    spec = JobSpec("balance:c1", "c1", "balance", interval_s=3600)
    sched = PolicyScheduler(store, [spec], run, sample=lambda: samples.append(1.0))
    caplog.set_level(logging.INFO)
    sched.start()
    aps = sched.scheduler
    assert aps is not None
    aps.modify_job(spec.id, next_run_time=datetime.now(aps.timezone))
    await asyncio.wait_for(started.wait(), 60)
    await sched.stop()
    assert samples  # the sampler ran too
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert sched.state(spec.id)["last_result"] == "cancelled (engine stopping)"
    store.close()
