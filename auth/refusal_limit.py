"""How many audit records callers who are not signed in may cause: a token bucket per source,
and one for all sources together, so a flood of bad tokens cannot fill the disk.

Signed-in callers are not limited (each of their records names an accountable user). A request
refused before anyone was identified (a missing, garbage, forged, expired or signed-out token,
a body so broken that the token was never looked at, a refused sign-in; not the one record
that a user name or source is locked) costs one token of its source's bucket
and one of the shared bucket; with either empty, the record is dropped and counted. The next
record written for that source says how many of its refusals were dropped before it, so the
trail still tells the size of a flood. Sources are client addresses (the port is ignored: a
flood uses many); every Unix-socket client is one source.

Worst case: SOURCE_BURST records at once per source, then one per SOURCE_INTERVAL seconds, and
never more than ALL_BURST at once and one per ALL_INTERVAL seconds in all (86 400 a day, about
40 MB at ~450 bytes a record), however many addresses a flood comes from.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from auth.throttle import source_address

SOURCE_BURST, SOURCE_INTERVAL = 20, 10.0
ALL_BURST, ALL_INTERVAL = 200, 1.0
MAX_SOURCES = 4096  # sources remembered; forgetting one only refills its bucket early


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float
    dropped: int = 0

    def refill(self, now: float, burst: int, interval: float) -> None:
        self.tokens = min(burst, self.tokens + (now - self.stamp) / interval)
        self.stamp = now


class RefusalLimit:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        source_burst: int = SOURCE_BURST,
        source_interval: float = SOURCE_INTERVAL,
        all_burst: int = ALL_BURST,
        all_interval: float = ALL_INTERVAL,
        max_sources: int = MAX_SOURCES,
    ) -> None:
        self._clock = clock
        self._source = (source_burst, source_interval)
        self._all_limit = (all_burst, all_interval)
        self._max_sources = max_sources
        self._all = _Bucket(all_burst, clock())
        self._sources: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, source: str) -> int | None:
        """None: drop this record. A number: write it, noting that many dropped before it.

        `source` is the audit's source ('10.0.0.7:51234', 'unix-socket'); its port is ignored.
        """
        source = source_address(source) or source
        now = self._clock()
        with self._lock:
            bucket = self._sources.pop(source, None) or _Bucket(self._source[0], now)
            self._sources[source] = bucket  # most recently seen last
            while len(self._sources) > self._max_sources:
                self._sources.popitem(last=False)
            bucket.refill(now, *self._source)
            self._all.refill(now, *self._all_limit)
            if bucket.tokens < 1 or self._all.tokens < 1:
                bucket.dropped += 1
                return None
            bucket.tokens -= 1
            self._all.tokens -= 1
            dropped, bucket.dropped = bucket.dropped, 0
            return dropped
