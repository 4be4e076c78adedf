"""A labelled counter whose exposition text is kept until one of its values changes.

prometheus_client's Counter builds a Sample and a label dict for each series at every collect,
and the exporter formats each again: ovtui_libvirt_call_errors has 4 series per host (2 000 at
500 hosts), almost always zero, and cost ~25 ms of CPU of every scrape (cProfile of a warm
scrape). This one writes its text once per change (an error counted, a host declared); a scrape
in between gets the very same string, so collectors.gzip_text reuses its compressed run as well.
Reads for tests go through TextFamily.samples (parsed from the text) like any family.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from collectors.host_blocks import TextFamily
from collectors.text_format import escape, value


class TextCounter(Collector):
    def __init__(
        self, name: str, help: str, labelnames: Sequence[str], registry: CollectorRegistry
    ) -> None:
        """`name` without _total, as prometheus_client's Counter takes it."""
        self.name, self.help, self.labelnames = f"{name}_total", help, tuple(labelnames)
        self._values: dict[tuple[str, ...], float] = {}  # in the order first declared
        self._lock = threading.Lock()  # counted from the loop and the hosts' threads
        self._text: str | None = ""
        registry.register(self)

    def declare(self, *labels: str) -> None:
        """The series at zero, if it is not there yet (rates and panels have data from start)."""
        self._add(labels, 0.0)

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters only go up")
        self._add(labels, amount)

    def _add(self, labels: tuple[str, ...], amount: float) -> None:
        if len(labels) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, not {labels}")
        with self._lock:
            known = labels in self._values
            if known and not amount:
                return
            self._values[labels] = self._values.get(labels, 0.0) + amount
            self._text = None  # written again at the next collect

    def describe(self) -> Iterable[Metric]:
        return [TextFamily(self.name, "counter", self.help, "")]

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            text = self._text
            if text is None:
                text = self._text = "".join([self._line(k, v) for k, v in self._values.items()])
        return [TextFamily(self.name, "counter", self.help, text)]

    def _line(self, labels: tuple[str, ...], v: float) -> str:
        pairs = ",".join(
            [f'{n}="{escape(x)}"' for n, x in zip(self.labelnames, labels, strict=True)]
        )
        return f"{self.name}{{{pairs}}} {value(v)}\n"
