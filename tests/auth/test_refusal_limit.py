"""The rate limit on audit records of callers not signed in: per source, and for all together."""

from __future__ import annotations

from auth.refusal_limit import RefusalLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_source_gets_its_burst_then_one_per_interval_and_hears_what_was_left_out() -> None:
    clock = Clock()
    limit = RefusalLimit(clock, source_burst=3, source_interval=10)
    assert [limit.admit("10.0.0.7:1000") for _ in range(5)] == [0, 0, 0, None, None]
    # The port does not make a new source (a flood uses many); another address does.
    assert limit.admit("10.0.0.7:2000") is None
    assert limit.admit("10.0.0.8:1000") == 0
    clock.now += 9.9
    assert limit.admit("10.0.0.7:1") is None
    clock.now += 0.1
    assert limit.admit("10.0.0.7:1") == 4  # the 4 left out since its last written record
    assert limit.admit("10.0.0.7:1") is None
    clock.now += 1000  # refills up to the burst, no more
    assert [limit.admit("10.0.0.7:1") for _ in range(4)] == [1, 0, 0, None]


def test_all_sources_together_are_limited_too() -> None:
    clock = Clock()
    limit = RefusalLimit(clock, source_burst=5, all_burst=4, all_interval=1)
    assert [limit.admit(f"10.0.0.{i}:1") for i in range(6)] == [0, 0, 0, 0, None, None]
    clock.now += 1
    assert limit.admit("10.0.0.5:1") == 1
    assert limit.admit("unix-socket") is None


def test_memory_is_bounded_by_forgetting_the_oldest_source() -> None:
    limit = RefusalLimit(Clock(), source_burst=1, all_burst=10**6, max_sources=2)
    assert [limit.admit(s) for s in ("a", "a", "b", "c")] == [0, None, 0, 0]
    assert limit.admit("a") == 0  # forgotten, so a fresh bucket (the shared one still bounds)
    assert len(limit._sources) == 2
