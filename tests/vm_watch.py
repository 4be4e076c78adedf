"""Watching one VM through the API while it moves: threads ask GET /vms and GET /vms/NAME in a
loop and keep every answer, so a test can check that each one showed the VM exactly once."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.conftest import API, LiveEngine, eventually

WAIT = 60.0  # generous: for a machine shared with other test runs


class Hammer:
    """Threads asking GET /vms and GET /vms/NAME in a loop, recording what each answer showed."""

    def __init__(self, live: LiveEngine, name: str, threads: int = 3) -> None:
        token = live.login("viewer")
        self._clients = [
            httpx.Client(
                transport=httpx.HTTPTransport(uds=str(live.socket)),
                base_url="http://ovtui",
                headers={"Authorization": f"Bearer {token}"},
                timeout=WAIT,
            )
            for _ in range(threads)
        ]
        (vm,) = [v for v in self._clients[0].get(f"{API}/vms").json() if v["name"] == name]
        self._uuid, self._name = vm["uuid"], name
        # per thread, per answer: the copies of the VM it held (GET /vms/NAME: [] for an error)
        self.seen: list[list[list[dict[str, Any]]]] = [[] for _ in range(threads)]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)
        ]
        for t in self._threads:
            t.start()

    def _run(self, i: int) -> None:
        client, seen = self._clients[i], self.seen[i]
        while not self._stop.is_set():
            listed = client.get(f"{API}/vms").json()
            seen.append([v for v in listed if v["uuid"] == self._uuid])
            one = client.get(f"{API}/vms/{self._name}")
            seen.append([one.json()] if one.status_code == 200 else [])

    def rounds(self) -> list[int]:
        return [len(s) for s in self.seen]

    def wait_rounds_after(self, before: list[int]) -> None:
        """Until every thread has had two answers begun after `before` was taken."""
        eventually(
            lambda: all(n >= b + 3 for n, b in zip(self.rounds(), before, strict=True)),
            timeout=WAIT,
            what="every hammer thread answered again",
        )

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(WAIT)
        for c in self._clients:
            c.close()

    def check(self, source: str, target: str, *, before: str, after: str) -> None:
        """Every answer showed the VM once: on the source in state `before`, then migrating
        source -> target, then on the target in state `after`, in that order, and at least one
        answer saw it migrating."""
        for answers in self.seen:
            phases = [_phase(copies, source, target, before, after) for copies in answers]
            assert phases == sorted(phases), f"went back and forth: {phases}"
            assert 1 in phases, "no answer while the VM was moving"


def _phase(copies: list[dict[str, Any]], source: str, target: str, was: str, now: str) -> int:
    """0 before the move, 1 while migrating, 2 after; fails on anything else."""
    assert len(copies) == 1, f"the VM listed {len(copies)} times: {copies}"
    (vm,) = copies
    where = (vm["host"], vm["state"], vm["migration_source"], vm["migration_target"])
    if vm["state"] == "migrating":
        assert where == (source, "migrating", source, target), vm
        return 1
    assert where in {(source, was, "", ""), (target, now, "", "")}, vm
    return 0 if vm["host"] == source else 2
