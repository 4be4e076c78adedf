"""Per-host blocks of exposition text, kept between scrapes and rebuilt only when a host changes.

At 500 hosts x 40 VMs a scrape carries ~115 000 samples; building a prometheus_client Metric with
a Sample and a label dict for each of them, then formatting every one again, cost ~0.4 s of CPU
per scrape (bench/exporter_figures.py). Here each family is written straight to text, one host
at a time, and each host's text is kept with the inputs it came from: the next scrape reuses it
while those inputs are unchanged (a host not polled since, statistics still within the reuse
window) and rebuilds it when they are not. A deleted or moved VM changes its host's `vms`, so
that host's block is rebuilt and no series of it survives; hosts that left the snapshot lose
their blocks at once.

Adding a family: write a function `HostInputs -> Iterable[str]` that yields one finished sample
line per series of one host (use `labels()` and `value()`, end each line with "\\n"), and append
a `BlockFamily(name, kind, help, uses, lines)` to the family tuple of its module (host_metrics,
vm_metrics, or a new module whose tuple fleet_collector adds to FAMILIES). `uses` names the
inputs the lines depend on — "host", "vms", "stats", or "scrape" (this scrape's own health: never
cached) — and decides when the cached text is reused; declaring too few would serve stale text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from operator import attrgetter, is_

from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from collectors.bulk_stats import DomainStats, HostStats
from collectors.stats_cache import HostScrape
from collectors.text_format import escape, value
from ovtui.model import VM, Host

INPUTS = frozenset({"host", "host_load", "vms", "vm_load", "stats", "scrape"})
# What changes on every poll (load, last seen) is its own input, so that a poll of a host
# rebuilds only the lines that show it. Every other compared field is "host" or "vms": a field a
# new family reads is covered without listing it here.
_HOST_LOAD, _VM_LOAD = ("cpu_usage", "last_seen"), ("cpu_usage",)
_host_load = attrgetter(*_HOST_LOAD)
_host_facts = attrgetter(*[f.name for f in fields(Host) if f.compare and f.name not in _HOST_LOAD])
_vm_facts = attrgetter(*[f.name for f in fields(VM) if f.compare and f.name not in _VM_LOAD])
_vm_load = attrgetter(*_VM_LOAD)
# What a host's inputs derive from its VMs alone: kept from one scrape's inputs to the next while
# the VMs are the same objects, so that a host re-polled after a few quiet scrapes compares its
# new VMs against facts worked out once, not again from its last inputs.
_FROM_VMS = ("vm_facts", "vm_loads", "uuid_labels")


@dataclass(frozen=True)
class HostInputs:
    """What one scrape knows of one host; the families' only input."""

    name: str
    host: Host | None  # None: statistics for a host the snapshot does not list
    vms: tuple[VM, ...]  # the VMs exported from this host (a migrating VM: from where it runs)
    defined: int  # VMs the snapshot lists on this host (both copies of a migrating VM count)
    stats: HostStats | None  # None unless this scrape has statistics for the host
    scrape: HostScrape | None

    @cached_property
    def host_facts(self) -> tuple[object, ...]:
        return (self.defined, _host_facts(self.host)) if self.host is not None else ()

    @cached_property
    def vm_facts(self) -> list[tuple[object, ...]]:
        return list(map(_vm_facts, self.vms))

    @cached_property
    def vm_loads(self) -> list[object]:
        return list(map(_vm_load, self.vms))

    @cached_property
    def domains(self) -> dict[str, DomainStats]:
        """This host's statistics of the VMs exported from it, by UUID (a VM the snapshot does
        not know yet, or one exported from another host mid-migration, is left out)."""
        if self.stats is None:
            return {}
        here = self.uuid_labels
        return {d.uuid: d for d in self.stats.domains if d.uuid in here}

    @cached_property
    def uuid_labels(self) -> dict[str, str]:
        """`uuid="…"` of each exported VM (no braces): every VM series' labels start with it."""
        return {vm.uuid: f'uuid="{escape(vm.uuid)}"' for vm in self.vms}

    @cached_property
    def stat_keys(self) -> frozenset[str]:
        """Every statistic some domain of this host has: families without data skip the host."""
        keys: set[str] = set()
        for d in self.domains.values():
            keys.update(d.values)
        return frozenset(keys)


@dataclass(frozen=True, slots=True)
class BlockFamily:
    name: str  # as exposed: counters end in _total
    kind: str  # gauge | counter
    help: str
    uses: frozenset[str]
    lines: Callable[[HostInputs], Iterable[str]]

    def __post_init__(self) -> None:
        if not self.uses <= INPUTS:
            raise ValueError(f"{self.name}: unknown inputs {sorted(self.uses - INPUTS)}")
        if (self.kind == "counter") != self.name.endswith("_total"):
            raise ValueError(f"{self.name}: counters, and only counters, end in _total")


def labels(*pairs: tuple[str, str]) -> str:
    """`{a="x",b="y"}` with the values escaped; names are the families' own fixed ones."""
    return "{" + ",".join([f'{k}="{escape(v)}"' for k, v in pairs]) + "}"


def line(name: str, label_text: str, v: float) -> str:
    return f"{name}{label_text} {value(v)}\n"


def _same_objects(a: tuple[VM, ...], b: tuple[VM, ...]) -> bool:
    return a is b or (len(a) == len(b) and all(map(is_, a, b)))


def _changed(old: HostInputs | None, new: HostInputs) -> frozenset[str]:
    if old is None:
        return INPUTS
    changed = {"scrape"}
    # (`is` first: an unpolled host is the same object, and comparing 20 fields costs more)
    if old.defined != new.defined or (old.host is not new.host and old.host != new.host):
        if old.host_facts != new.host_facts:
            changed.add("host")
        if new.host is None or old.host is None or _host_load(old.host) != _host_load(new.host):
            changed.add("host_load")
    if _same_objects(old.vms, new.vms):
        kept, taken = old.__dict__, new.__dict__  # cached_property's own store
        taken.update((k, kept[k]) for k in _FROM_VMS if k in kept)
    else:  # facts and load together: every compared field (devices are not exported)
        if old.vm_facts != new.vm_facts:
            changed.add("vms")
        if old.vm_loads != new.vm_loads:
            changed.add("vm_load")
    if old.stats is not new.stats:
        changed.add("stats")
    return frozenset(changed)


class HostBlocks:
    """The cache: per host, its inputs at the last build and each family's text for it."""

    def __init__(self, families: Sequence[BlockFamily]) -> None:
        names = [f.name for f in families]
        if len(set(names)) != len(names):
            raise ValueError("a block family is listed twice")
        self.families = tuple(families)
        self._blocks: dict[str, tuple[HostInputs, list[str]]] = {}
        self._lock = threading.Lock()  # two scrapers at once: one builds, the other reuses
        # Per family, its text as last joined from the hosts' texts, and the hosts in the order
        # joined: a family none of whose host texts was replaced (and no host came, went or
        # moved) is the very same string as last time, without looking at its 500 parts
        # (collectors.gzip_text then reuses its compressed bytes too).
        self._joined = [""] * len(self.families)
        self._order: list[str] = []
        # Which families a set of changed inputs rebuilds, worked out once per set: an
        # unchanged host (only "scrape") rebuilds 3 of ~45 families, asked at every scrape.
        self._todo: dict[frozenset[str], tuple[int, ...]] = {}
        self.rebuilt = 0  # host blocks (re)built so far, for tests and benchmarks
        self.joins = 0  # family texts joined again from their hosts' texts, likewise

    def render(self, hosts: Iterable[HostInputs], order: Sequence[str] = ()) -> list[TextFamily]:
        """`order`: the hosts' order in the output when `hosts` come in another (as their
        statistics arrive); hosts it does not name follow in the order they came."""
        with self._lock:
            replaced: set[int] = set()  # families with a host text that is a new object
            blocks = {h.name: self._block(h, replaced) for h in hosts}
            if order:
                ordered = {n: blocks[n] for n in order if n in blocks}
                ordered.update(blocks)
                blocks = ordered
            names = list(blocks)
            if names != self._order:  # hosts came, went or moved: every family joined anew
                replaced = set(range(len(self.families)))
                self._order = names
            self._blocks = {n: self._blocks[n] for n in names}  # hosts gone: blocks gone
            for i in sorted(replaced):
                self._joined[i] = "".join([texts[i] for texts in blocks.values()])
                self.joins += 1
            # A family the driver cannot fill is left out, not sent empty.
            return [
                TextFamily(f.name, f.kind, f.help, t)
                for f, t in zip(self.families, self._joined, strict=True)
                if t
            ]

    def _block(self, new: HostInputs, replaced: set[int]) -> list[str]:
        kept = self._blocks.get(new.name)
        old, texts = kept if kept is not None else (None, [""] * len(self.families))
        changed = _changed(old, new)
        todo = self._todo.get(changed)
        if todo is None:
            todo = tuple(i for i, f in enumerate(self.families) if f.uses & changed)
            self._todo[changed] = todo
        for i in todo:
            text = "".join(self.families[i].lines(new))
            if text != texts[i]:  # the same text stays the same object
                texts[i] = text
                replaced.add(i)
        self.rebuilt += len(changed) > 1  # more than this scrape's own health
        self._blocks[new.name] = (new, texts)
        return texts


class TextFamily(Metric):
    """A family already written as text: the exposition writer sends `text` as it is; `samples`
    (prometheus_client's own view, for generate_latest and tests) is parsed from it on demand."""

    def __init__(self, name: str, kind: str, help: str, text: str) -> None:
        """`name` as exposed (a counter's ends in _total); `text` its sample lines."""
        base = name.removesuffix("_total") if kind == "counter" else name
        super().__init__(base, help, kind)
        self.text = text
        self._parsed: list[Sample] | None = None

    @property
    def samples(self) -> list[Sample]:
        if self._parsed is None:
            head = f"# TYPE {self.exposed_name} {self.type}\n"
            parsed = list(text_string_to_metric_families(head + self.text))
            self._parsed = [s for fam in parsed for s in fam.samples]
        return self._parsed

    @samples.setter
    def samples(self, _value: list[Sample]) -> None:
        pass  # Metric.__init__ sets an empty list; the text is the truth

    @property
    def exposed_name(self) -> str:
        return self.name + "_total" if self.type == "counter" else self.name
