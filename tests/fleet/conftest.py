"""A per-test test-driver fleet (own XML copies) and a started Fleet on it."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from collectors.synthetic_load import SyntheticLoad
from ovtui.config import Config, load_config
from ovtui.fleet.fleet import Fleet
from ovtui.testdriver_fleet import FleetSpec, synthetic_spec, write_fleet


def fleet_config(spec: FleetSpec, **engine: Any) -> Config:
    root = Path(tempfile.mkdtemp(prefix="ovt-"))
    config = load_config(write_fleet(spec, root))
    return config.model_copy(update={"engine": config.engine.model_copy(update=engine)})


@pytest.fixture
async def started() -> AsyncIterator[Callable[..., Any]]:
    fleets: list[Fleet] = []

    async def start(config: Config) -> Fleet:
        fleet = Fleet(config, synthetic_load=SyntheticLoad().vm_cpu)
        fleets.append(fleet)
        await fleet.start()
        await fleet.wait_connected(10)
        return fleet

    yield start
    for fleet in fleets:
        await fleet.stop()


@pytest.fixture
def small_spec() -> FleetSpec:
    return synthetic_spec(3, 6, clusters=1, seed=7)
