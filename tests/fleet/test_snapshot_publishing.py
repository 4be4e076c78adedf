"""Background polls publish at most every PUBLISH_EVERY_SECONDS; explicit reads publish at once.

The window is set, not waited for: an hour while the test checks "not yet", zero once it checks
"now", so the outcome does not depend on how long each step takes on a busy machine.
"""

from __future__ import annotations

import pytest

from ovtui.fleet import fleet as fleet_module
from ovtui.testdriver_fleet import FleetSpec
from tests.fleet.conftest import fleet_config


async def test_polls_are_published_together_and_explicit_reads_at_once(
    started, small_spec: FleetSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fleet_module, "PUBLISH_EVERY_SECONDS", 3600.0)
    fleet = await started(fleet_config(small_spec, poll_interval_seconds=3600))
    host = next(iter(fleet.links))
    await fleet.refresh(host)
    first = fleet.snapshot()
    assert fleet.snapshot() is first  # nothing changed: the same object

    await fleet.refresh(host, publish=False)  # what the poll loop does
    assert fleet.snapshot() is first  # within the window: not yet
    monkeypatch.setattr(fleet_module, "PUBLISH_EVERY_SECONDS", 0.0)  # the window is over
    polled = fleet.snapshot()
    assert polled is not first and polled.host(host).last_seen >= first.host(host).last_seen

    await fleet.refresh(host)  # after an action: the next read must show it
    assert fleet.snapshot() is not polled
