"""What a host's rebuild asks of the storage service (at every poll) looks at that host's
domains only, however many hosts share them: scanning every (domain, host) pair made each poll
grow with the fleet, so the polls of a sweep with its square."""

from __future__ import annotations

from collections.abc import Iterator

from ovtui.model import HostState
from ovtui.storage.model import PoolReading
from ovtui.storage.service import Pair, StorageService
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec
from tests.storage.helpers import SKY, with_domains


class _CountedPairs(list[Pair]):
    """The service's pairs, counting how many of them are looked at."""

    looked_at = 0

    def __iter__(self) -> Iterator[Pair]:
        for pair in super().__iter__():
            type(self).looked_at += 1
            yield pair


class _Link:
    state = HostState.UP
    call_timeout = 1.0


def _service(hosts: int) -> StorageService:
    spec = FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", SKY),),
        tuple(HostSpec(f"h{i}", "c1", 8, 16384, SKY, 2400, ()) for i in range(hosts)),
    )
    config = with_domains(
        spec,
        [
            {"name": "shared", "type": "shared_dir", "path": "/srv/shared"},
            {"name": "local0", "type": "local", "path": "/srv/local", "hosts": ["h0"]},
        ],
    )
    service = StorageService(config, {f"h{i}": _Link() for i in range(hosts)})  # type: ignore[misc]
    service._pairs = _CountedPairs(service._pairs)
    return service


def _looked_at_per_host(hosts: int) -> int:
    service = _service(hosts)
    service.readings[("shared", "h0")] = PoolReading("shared", "h0", "active")
    service.readings[("local0", "h0")] = PoolReading("local0", "h0", "inactive")
    service.readings[("shared", "h1")] = PoolReading("shared", "h1", "error", error="no dir")
    assert service.active_on("h0") == frozenset({"shared"})
    assert service.problem_of("h0") is None
    assert service.active_on("h1") == frozenset()
    assert service.problem_of("h1") == "cannot activate storage domain shared: no dir"
    _CountedPairs.looked_at = 0
    for i in range(hosts):
        service.problem_of(f"h{i}")
        service.active_on(f"h{i}")
    return _CountedPairs.looked_at // hosts


def test_a_hosts_storage_answers_do_not_grow_with_the_hosts_sharing_its_domains() -> None:
    assert _looked_at_per_host(40) == _looked_at_per_host(4)
