"""Storage families: from the engine's cached readings, and from plain input."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry

from collectors.storage_metrics import (
    DiskSample,
    PoolSample,
    StorageCollector,
    StorageInput,
)
from tests.conftest import LiveEngine
from tests.storage.helpers import all_read, storage_spec, wait_storage, with_domains
from tests.storage.test_disks_api import _prepare

GIB = 1 << 30


def test_families_from_plain_input() -> None:
    registry = CollectorRegistry()
    data = StorageInput(
        pools=[
            PoolSample("s", "h1", "shared_dir", "active", 10 * GIB, 4 * GIB, 6 * GIB),
            PoolSample("s", "h2", "shared_dir", "error", 0, 0, 0),
        ],
        disks=[DiskSample("s", "d1", "vm1", GIB, GIB // 2)],
        moves_started=3,
        moves_succeeded=2,
        moves_failed=1,
        move_seconds=(4.0, 40.0),
    )
    registry.register(StorageCollector(lambda: data))
    get = registry.get_sample_value
    labels = {"domain": "s", "host": "h1", "type": "shared_dir"}
    assert get("ovtui_storage_domain_available_bytes", labels) == 6 * GIB
    assert get("ovtui_storage_domain_capacity_bytes", {**labels, "host": "h2"}) is None
    assert get("ovtui_storage_domain_state", {"domain": "s", "host": "h2", "state": "error"}) == 1
    assert get("ovtui_storage_domain_state", {"domain": "s", "host": "h2", "state": "active"}) == 0
    assert get("ovtui_disk_allocation_bytes", {"domain": "s", "disk": "d1", "vm": "vm1"}) == GIB / 2
    assert get("ovtui_disk_moves_started_total") == 3
    assert get("ovtui_disk_moves_failed_total") == 1
    assert get("ovtui_disk_move_duration_seconds_bucket", {"le": "5.0"}) == 1
    assert get("ovtui_disk_move_duration_seconds_count") == 2
    assert get("ovtui_disk_move_duration_seconds_sum") == 44.0


def test_the_engine_exports_its_storage_readings(start_engine: Callable[..., LiveEngine]) -> None:
    config = with_domains(
        storage_spec(),
        [{"name": "loc", "type": "local", "path": "/var/lib/vm", "hosts": ["h1"]}],
        _prepare,
    )
    live = start_engine(config=config)
    wait_storage(live.as_role("SuperUser"), all_read)
    live.settle()
    get = live.engine.metrics.registry.get_sample_value  # from this thread, as a scrape would
    labels = {"domain": "loc", "host": "h1", "type": "local"}
    assert get("ovtui_storage_domain_capacity_bytes", labels) == 100 * GIB
    assert (
        get("ovtui_storage_domain_state", {"domain": "loc", "host": "h1", "state": "active"}) == 1
    )
    assert (
        get("ovtui_disk_capacity_bytes", {"domain": "loc", "disk": "data.qcow2", "vm": "app-1"})
        == GIB
    )
    assert get("ovtui_disk_moves_started_total") == 0
