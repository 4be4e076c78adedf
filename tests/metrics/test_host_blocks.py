"""The per-host text cache: reused while a host's inputs stand still, never stale after a change."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from collectors.fleet_collector import FleetCollector, ScrapeInput
from collectors.host_blocks import BlockFamily
from collectors.stats_cache import HostScrape
from collectors.text_format import render
from collectors.vm_metrics import vm_inputs
from ovtui.model import HostState, Snapshot, VmState
from tests.metrics.fakes import host, snapshot, stats, up, vm
from tests.metrics.promtool import check_metrics, needs_promtool
from tests.metrics.test_vm_families import QEMU_RECORD


class Scrapes:
    """One long-lived collector (its cache kept between scrapes), fed whatever `now` holds."""

    def __init__(self, data: ScrapeInput) -> None:
        self.now = data
        self.collector = FleetCollector(lambda _budget: self.now)
        self.registry = CollectorRegistry()
        self.registry.register(self.collector)

    def text(self) -> str:
        return _without_timing(render(self.registry).decode())


def _without_timing(text: str) -> str:
    return "".join(
        line for line in text.splitlines(True) if "ovtui_exporter_collect_duration" not in line
    )


def _fresh(data: ScrapeInput) -> str:
    """What a collector that never saw an earlier scrape writes for the same inputs."""
    return Scrapes(data).text()


def _series(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line and not line.startswith("#")]


def test_a_moved_vm_leaves_no_series_on_its_old_host() -> None:
    h1, h2 = host("h1"), host("h2")
    scrapes = Scrapes(ScrapeInput(snapshot([h1, h2], [vm("a"), vm("b"), vm("c", "h2")])))
    before = scrapes.text()
    assert 'name="b",host="h1"' in before
    # Same Host objects (neither host re-read): only the VM lists differ.
    scrapes.now = ScrapeInput(snapshot([h1, h2], [vm("a"), vm("c", "h2"), vm("b", "h2")]))
    after = scrapes.text()
    assert 'name="b",host="h1"' not in after
    assert len(_series(after, 'ovtui_vm_info{uuid="uuid-b"')) == 1
    assert 'name="b",host="h2"' in after
    assert len(_series(after, 'ovtui_vm_vcpus{uuid="uuid-b"}')) == 1
    assert after == _fresh(scrapes.now)


def test_a_deleted_vm_and_a_removed_host_leave_no_series() -> None:
    h1, h2 = host("h1"), host("h2")
    data = ScrapeInput(snapshot([h1, h2], [vm("a"), vm("b", "h2")]), {"h2": up("h2", stats())})
    scrapes = Scrapes(data)
    assert _series(scrapes.text(), "uuid-b") and _series(scrapes.text(), 'host="h2"')
    scrapes.now = ScrapeInput(snapshot([h1], [vm("a")]))
    after = scrapes.text()
    assert not _series(after, "uuid-b")
    assert not _series(after, 'host="h2"')
    assert after == _fresh(scrapes.now)


def _three_hosts_scraped() -> tuple[list[Any], list[Any], Scrapes]:
    """Three hosts with a VM each, scraped once."""
    hosts = [host(f"h{i}") for i in range(3)]
    vms = [vm(f"v{i}", f"h{i}") for i in range(3)]
    scrapes = Scrapes(ScrapeInput(snapshot(hosts, vms)))
    scrapes.text()
    return hosts, vms, scrapes


def test_an_unchanged_host_is_reused_and_a_changed_one_rebuilt() -> None:
    hosts, vms, scrapes = _three_hosts_scraped()
    blocks = scrapes.collector.blocks
    assert blocks.rebuilt == 3
    scrapes.text()
    assert blocks.rebuilt == 3  # nothing changed: every host's text reused
    # h1 re-polled: new objects, new load; h0 and h2 untouched
    vms[1] = replace(vms[1], cpu_usage=0.75)
    hosts[1] = replace(hosts[1], cpu_usage=0.1, last_seen=(hosts[1].last_seen or 0) + 5)
    scrapes.now = ScrapeInput(snapshot(hosts, vms))
    text = scrapes.text()
    assert blocks.rebuilt == 4
    assert 'ovtui_vm_cpu_utilisation_ratio{uuid="uuid-v1"} 0.75' in text
    assert 'ovtui_host_cpu_utilisation_ratio{host="h1"} 0.1' in text
    assert text == _fresh(scrapes.now)


def _changes() -> list[tuple[Snapshot, dict[str, HostScrape]]]:
    """A run of fleet changes, each one a snapshot (and statistics) after the one before."""
    h1, h2 = host("h1"), host("h2")
    a, b, c = vm("a"), vm("b"), vm("c", "h2")
    s1 = stats({"uuid-a": QEMU_RECORD, "uuid-b": {"state.state": 1}})
    return [
        (snapshot([h1, h2], [a, b, c]), {"h1": up("h1", s1)}),
        (snapshot([h1, h2], [a, b, c]), {"h1": up("h1", s1)}),  # nothing new
        (snapshot([h1, h2], [a, replace(b, cpu_usage=0.9), c]), {"h1": up("h1", s1)}),
        (snapshot([h1, h2], [a, replace(b, state=VmState.PAUSED), c]), {"h1": up("h1", s1)}),
        (snapshot([h1, h2], [a, b, c]), {"h1": up("h1", stats({"uuid-a": {"state.state": 3}}))}),
        (snapshot([replace(h1, state=HostState.NON_RESPONSIVE), h2], [a, b, c]), {}),
        (snapshot([h1, h2], [a, replace(b, name="b-renamed"), c]), {}),
        (snapshot([h1, h2], [a, replace(c, host="h1"), replace(c, state=VmState.PAUSED)]), {}),
        (snapshot([h2], [c]), {"h2": up("h2", stats({"uuid-c": QEMU_RECORD}))}),
        (snapshot([h1, h2], []), {}),
    ]


def test_after_every_change_the_cached_text_is_what_a_fresh_collector_writes() -> None:
    first, *rest = _changes()
    scrapes = Scrapes(ScrapeInput(first[0], first[1]))
    assert scrapes.text() == _fresh(scrapes.now)
    for snap, found in rest:
        scrapes.now = ScrapeInput(snap, found)
        assert scrapes.text() == _fresh(scrapes.now)


@needs_promtool
def test_cached_text_passes_promtool_check_metrics_after_every_change() -> None:
    first, *rest = _changes()
    scrapes = Scrapes(ScrapeInput(first[0], first[1]))
    for snap, found in [first, *rest]:
        scrapes.now = ScrapeInput(snap, found)
        out = check_metrics(render(scrapes.registry))
        assert out.returncode == 0, out.stderr + out.stdout


def test_a_family_must_name_inputs_the_cache_knows_and_counters_end_in_total() -> None:
    with pytest.raises(ValueError, match="unknown inputs"):
        BlockFamily("ovtui_x", "gauge", "x", frozenset({"weather"}), lambda _i: ())
    with pytest.raises(ValueError, match="_total"):
        BlockFamily("ovtui_x", "counter", "x", frozenset({"stats"}), lambda _i: ())


def test_only_the_families_whose_host_text_changed_are_joined_again() -> None:
    hosts, vms, scrapes = _three_hosts_scraped()
    blocks = scrapes.collector.blocks
    first = blocks.joins
    assert first == len(blocks.families)  # the first render joins every family
    scrapes.now = ScrapeInput(snapshot(hosts, vms))  # a new snapshot of the same objects
    scrapes.text()
    assert blocks.joins == first  # nothing changed: every family is last time's string
    vms[1] = replace(vms[1], cpu_usage=0.75)
    hosts[1] = replace(hosts[1], cpu_usage=0.1, last_seen=(hosts[1].last_seen or 0) + 5)
    scrapes.now = ScrapeInput(snapshot(hosts, vms))
    text = scrapes.text()
    # the load of one host and of its VM: three families' texts, the others untouched
    assert blocks.joins == first + 3
    assert 'ovtui_vm_cpu_utilisation_ratio{uuid="uuid-v1"} 0.75' in text
    assert text == _fresh(scrapes.now)
    scrapes.now = ScrapeInput(snapshot(hosts[:2], vms[:2]))  # a host gone: every family again
    text = scrapes.text()
    assert blocks.joins == first + 3 + len(blocks.families)
    assert 'host="h2"' not in text and "uuid-v2" not in text
    assert text == _fresh(scrapes.now)


def test_a_vm_changed_after_quiet_scrapes_shows_its_new_facts_and_a_deleted_one_goes() -> None:
    h1 = host("h1")
    a, b = vm("a"), vm("b")
    scrapes = Scrapes(ScrapeInput(snapshot([h1], [a, b])))
    scrapes.text()
    b = replace(b, cpu_usage=0.5)  # re-polled: the facts are compared, the load differs
    scrapes.now = ScrapeInput(snapshot([h1], [a, b]))
    scrapes.text()
    for _ in range(2):  # quiet: the same VM objects (facts carried from inputs to inputs)
        scrapes.now = ScrapeInput(snapshot([h1], [a, b]))
        scrapes.text()
    # what the next change is compared against is known without working it out again
    kept, _texts = scrapes.collector.blocks._blocks["h1"]
    assert {"vm_facts", "vm_loads"} <= set(kept.__dict__)
    # renamed, same load: a fact change only; then the VM deleted
    scrapes.now = ScrapeInput(snapshot([h1], [a, replace(b, name="b2", vcpus=8)]))
    text = scrapes.text()
    assert 'name="b2"' in text and 'name="b",' not in text
    assert 'ovtui_vm_vcpus{uuid="uuid-b"} 8.0' in text
    assert text == _fresh(scrapes.now)
    scrapes.now = ScrapeInput(snapshot([h1], [a]))
    text = scrapes.text()
    assert "uuid-b" not in text
    assert text == _fresh(scrapes.now)


def test_each_host_exports_its_vms_in_snapshot_order_wherever_they_are_listed() -> None:
    """vm_inputs groups the snapshot's runs of one host; a host listed in two runs (a move laid
    over the list) and a VM listed twice (mid-migration) still export each UUID once."""
    h1, h2 = host("h1"), host("h2")
    a, b, c, d = vm("a"), vm("b", "h2"), vm("c"), vm("d", "h2")
    exported, defined = vm_inputs(snapshot([h1, h2], [a, b, c, d]))
    assert exported == {"h1": (a, c), "h2": (b, d)} and defined == {"h1": 2, "h2": 2}
    # c mid-migration: listed on h1 (migrating) and h2 (running): exported from h2 only, at
    # the place its UUID was first listed
    arriving = replace(c, host="h2")
    leaving = replace(c, state=VmState.MIGRATING)
    exported, defined = vm_inputs(snapshot([h1, h2], [a, leaving, b, arriving, d]))
    assert exported == {"h1": (a,), "h2": (arriving, b, d)}
    assert defined == {"h1": 2, "h2": 3}
