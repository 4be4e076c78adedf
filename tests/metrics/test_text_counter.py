"""ovtui_libvirt_call_errors kept as text: the same string while nothing is counted, never stale."""

from __future__ import annotations

from collectors.engine_metrics import EngineMetrics
from collectors.text_format import render
from tests.metrics.promtool import check_metrics, needs_promtool

NAME = "ovtui_libvirt_call_errors_total"


def _family_text(metrics: EngineMetrics) -> str:
    (family,) = [m for m in metrics.libvirt_errors.collect()]
    text = getattr(family, "text", None)
    assert isinstance(text, str)
    return text


def test_unchanged_counters_are_the_same_text_and_a_count_shows_at_the_next_scrape() -> None:
    metrics = EngineMetrics()
    for h in ("h1", "h2"):
        metrics.declare_host(h)
    first = _family_text(metrics)
    assert _family_text(metrics) is first  # nothing counted: not written again
    assert first.count("\n") == 8 and " 1.0\n" not in first  # 4 series a host, all at zero
    metrics.libvirt_error("h2", "getAllDomainStats", "timeout")
    second = _family_text(metrics)
    assert second is not first
    line = f'{NAME}{{host="h2",call="getAllDomainStats",kind="timeout"}} 1.0\n'
    assert line in second
    get = metrics.registry.get_sample_value
    assert get(NAME, {"host": "h2", "call": "getAllDomainStats", "kind": "timeout"}) == 1
    assert get(NAME, {"host": "h1", "call": "getAllDomainStats", "kind": "timeout"}) == 0
    metrics.declare_host("h2")  # declaring again does not reset, nor rewrite
    assert _family_text(metrics) is second
    metrics.libvirt_error("h3", "getCPUStats", "hypervisor")  # a series never declared
    assert get(NAME, {"host": "h3", "call": "getCPUStats", "kind": "hypervisor"}) == 1


def test_the_exposition_is_one_counter_family_with_help_and_type() -> None:
    metrics = EngineMetrics()
    metrics.declare_host('odd "host"\\')
    text = render(metrics.registry).decode()
    assert text.count(f"# TYPE {NAME} counter\n") == 1
    assert f"# HELP {NAME} Failed libvirt calls" in text
    escaped = 'host="odd \\"host\\"\\\\",call="getAllDomainStats",kind="timeout"'
    assert f"{NAME}{{{escaped}}} 0.0" in text


@needs_promtool
def test_promtool_reads_it() -> None:
    metrics = EngineMetrics()
    for i in range(300):  # large enough to be a part of its own (text_format.OWN_PART)
        metrics.declare_host(f"host-{i}")
    metrics.libvirt_error("host-7", "listAllDomains", "timeout")
    out = check_metrics(render(metrics.registry))
    assert out.returncode == 0, out.stderr + out.stdout
