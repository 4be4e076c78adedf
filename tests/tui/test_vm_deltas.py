"""The poller asks for the VMs that changed and applies them to the rows it keeps.

The engine side (GET /api/v1/vms?since=) is tested in tests/api/test_vm_changes.py; here the
answers are scripted, to see exactly what the poller asks and what it keeps.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ovtui.client import ApiError
from ovtui.tui.poller import START, Poller


def _vm(name: str, usage: float) -> dict[str, Any]:
    return {"uuid": f"u-{name}", "name": name, "host": "h1", "state": "running",
            "cpu_usage": usage, "vcpus": 1, "memory_mib": 512}  # fmt: skip


class ScriptedEngine:
    """Answers the poller's GETs: one host, no clusters, and the VM answers given, in order."""

    def __init__(self, vm_answers: list[dict[str, Any]]) -> None:
        self.vm_answers = vm_answers
        self.asked: list[dict[str, Any]] = []  # the VM list's query of each read

    async def get_bytes(
        self, path: str, params: dict[str, Any] | None = None, timeout: float | None = None
    ) -> bytes:
        if path != "/api/v1/vms":
            return b'[{"name": "h1", "state": "up"}]' if path == "/api/v1/hosts" else b"[]"
        self.asked.append(dict(params or {}))
        answer = self.vm_answers.pop(0)
        if "error" in answer:
            raise ApiError(answer["error"], "refused")
        return json.dumps(answer).encode()


async def test_a_poll_applies_only_the_vms_that_changed() -> None:
    full = [_vm("a", 0.1), _vm("b", 0.2), _vm("c", 0.3)]
    engine = ScriptedEngine(
        [
            {"revision": "e.1.g", "full": True, "vms": full, "removed": []},
            {
                "revision": "e.2.g",
                "full": False,
                "vms": [_vm("b", 0.9), _vm("d", 0.4)],
                "removed": ["u-c"],
            },
            {"revision": "e.2.g", "full": False, "vms": [], "removed": []},
            {"revision": "f.1.g", "full": True, "vms": [_vm("a", 0.5)], "removed": []},
        ]
    )
    poller = Poller(engine)  # type: ignore[arg-type]
    first = await poller.fleet(vms=True)
    rows = {v.name: v for v in first.vms}
    second = await poller.fleet(vms=True)
    assert [v.name for v in second.vms] == ["a", "b", "d"]
    assert second.vms[0] is rows["a"]  # not in the answer: the same row, not parsed again
    assert second.vm("u-b") is not None and second.vm("u-b").cpu_usage == 0.9  # type: ignore[union-attr]
    third = await poller.fleet(vms=True)
    assert third is second and poller.unchanged == 1  # nothing changed: nothing to do
    fourth = await poller.fleet(vms=True)  # a full answer (engine restarted): replaces all
    assert [(v.name, v.cpu_usage) for v in fourth.vms] == [("a", 0.5)]
    assert [q["since"] for q in engine.asked] == [START, "e.1.g", "e.2.g", "e.2.g"]
    assert {q["precision"] for q in engine.asked} == {"percent"}  # CPU is shown at whole percents


async def test_a_refused_revision_is_followed_by_a_full_read() -> None:
    full = {"revision": "e.1.g", "full": True, "vms": [_vm("a", 0.1)], "removed": []}
    engine = ScriptedEngine([full, {"error": 422}, full])
    poller = Poller(engine)  # type: ignore[arg-type]
    await poller.fleet(vms=True)
    with pytest.raises(ApiError):
        await poller.fleet(vms=True)
    assert [v.name for v in (await poller.fleet(vms=True)).vms] == ["a"]
    assert [q["since"] for q in engine.asked] == [START, "e.1.g", START]
