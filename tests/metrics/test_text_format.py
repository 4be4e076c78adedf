"""collectors.text_format.render says what prometheus_client's generate_latest says, faster."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from collectors.engine_metrics import EngineMetrics
from collectors.fleet_collector import FleetCollector, ScrapeInput
from collectors.text_format import render
from tests.metrics.fakes import host, snapshot, stats, up, vm
from tests.metrics.test_vm_families import QEMU_RECORD


def _parsed(text: bytes) -> dict[str, tuple[str, str, frozenset]]:
    out = {}
    for fam in text_string_to_metric_families(text.decode()):
        samples = frozenset(
            (s.name, frozenset(s.labels.items()), s.value, s.timestamp) for s in fam.samples
        )
        out[fam.name] = (fam.type, fam.documentation, samples)
    return out


def _registry() -> EngineMetrics:
    metrics = EngineMetrics()
    odd = vm('we"ird\\name\nx', "h1", uuid="uuid-odd")  # every character that needs escaping
    snap = snapshot([host("h1")], [vm("web-1"), odd])
    scrape = up("h1", stats({"uuid-web-1": QEMU_RECORD}, node_cpu_ns={"idle": 1.5e18}))
    inputs = ScrapeInput(snap, {"h1": scrape})
    metrics.registry.register(FleetCollector(lambda _b: inputs))
    with metrics.migrations.attempt() as attempt:
        attempt.succeeded({"mode": "live", "seconds": 1.25, "downtime_ms": 50})
    metrics.plans.record(cluster="c1", policy="p", imbalance_before=float("nan"),
                         imbalance_after=0.1, hosts_released=0, migrations=2)  # fmt: skip
    metrics.api.observe("/api/v1/vms/{vm}", "GET", 200, 0.003)
    return metrics


def test_render_and_generate_latest_parse_to_the_same_families() -> None:
    registry = _registry().registry
    mine, theirs = _parsed(render(registry)), _parsed(generate_latest(registry))
    for name in ("ovtui_exporter_collect_duration_seconds", "process_cpu_seconds",
                 "process_resident_memory_bytes", "process_virtual_memory_bytes",
                 "process_open_fds"):  # fmt: skip
        mine.pop(name, None), theirs.pop(name, None)  # change between two collects
    assert set(mine) == set(theirs)
    for name in mine:
        if name == "ovtui_plan_imbalance_before_ratio":  # NaN != NaN
            continue
        assert mine[name] == theirs[name], name
    text = render(registry).decode()
    assert 'name="we\\"ird\\\\name\\nx"' in text


def test_values_are_written_as_floattogostring_writes_them() -> None:
    import math
    import random

    from prometheus_client.utils import floatToGoString

    from collectors.text_format import value

    rng = random.Random(15)
    edges = [0, 1, -1, 4, 0.5, 1e-05, 999999.5, 1e6, 1e6 + 0.5, 123456789.0, -2.5e9, 8589934592,
             1.5e18, float("inf"), float("-inf"), math.nan, 1e-300, 0.1 + 0.2]  # fmt: skip
    values = (
        edges + [rng.random() for _ in range(200)] + [rng.uniform(-1e9, 1e9) for _ in range(200)]
    )
    for v in values:
        assert value(v) == floatToGoString(v), v


def test_render_parts_key_big_written_families_and_join_to_what_render_writes() -> None:
    from collectors.text_format import OWN_PART, render_parts

    registry = _registry().registry
    parts = render_parts(registry)
    keyed = [key for key, _text in parts if key is not None]
    assert all(len(text) >= OWN_PART for key, text in parts if key is not None)
    assert all(text.startswith("ovtui_") for key, text in parts if key is not None)
    big = snapshot([host(f"h{i}") for i in range(20)],
                   [vm(f"v{i}", f"h{i % 20}") for i in range(800)])  # fmt: skip
    reg = EngineMetrics().registry
    reg.register(FleetCollector(lambda _b: ScrapeInput(big, {})))
    keyed = [key for key, _text in render_parts(reg) if key is not None]
    assert "ovtui_vm_info" in keyed and "ovtui_host_info" not in keyed  # 20 hosts: small
    joined = "".join(text for _key, text in render_parts(reg))
    assert _parsed(joined.encode()).keys() == _parsed(render(reg)).keys()
