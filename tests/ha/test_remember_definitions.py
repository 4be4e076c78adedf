"""HA keeps the definition of every HA VM it sees running (a fenced host cannot be asked for it):
one tick reads the definitions that are due on every host that answers and writes them to the
store in one write. One VM a tick, each a rewrite of the whole store file, kept a fleet with
1 800 HA VMs writing it every second for half an hour after a start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ovtui.store import atomic_storage
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.policies import test_policy_engine
from tests.policies.test_policy_engine import SKY, MakeEngine

engine_for = test_policy_engine.engine_for  # the fixture, shared


def _spec() -> FleetSpec:
    def vms(host: str) -> tuple[VmSpec, ...]:
        return (
            *(VmSpec(f"db-{host}-{i}", 1, 512, "db", ha=True) for i in range(3)),
            VmSpec(f"web-{host}", 1, 512, "web"),
        )

    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", SKY),),
        (
            HostSpec("h1", "c1", 8, 16384, SKY, 2400, vms("h1")),
            HostSpec("h2", "c1", 8, 16384, SKY, 2400, vms("h2")),
        ),
    )


async def test_one_tick_remembers_every_due_definition_in_one_store_write(
    engine_for: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = await engine_for(_spec())
    await engine.ha.stop()  # no tick of its own from here on
    engine.ha._xml_devices.clear()  # as just after a start: no definition read by this engine
    stored: list[str] = []
    set_vm_settings = engine.store.set_vm_settings

    def recording(uuid: str, /, **fields: Any) -> None:
        if "ha_xml" in fields:
            stored.append(uuid)
        set_vm_settings(uuid, **fields)

    writes: list[Path] = []
    write = atomic_storage.atomic_write_bytes

    def counting(path: Path, data: bytes) -> None:
        writes.append(path)
        write(path, data)

    monkeypatch.setattr(engine.store, "set_vm_settings", recording)
    monkeypatch.setattr(atomic_storage, "atomic_write_bytes", counting)
    await engine.ha._tidy(engine.snapshot())
    ha = {v.uuid for v in engine.snapshot().vms if v.highly_available}
    assert len(ha) == 6 and sorted(stored) == sorted(ha)
    assert len(writes) == 1
    assert all("<domain" in str(engine.store.vm_settings(u)["ha_xml"]) for u in ha)
    await engine.ha._tidy(engine.snapshot())  # nothing due any more: nothing read or written
    assert len(stored) == 6 and len(writes) == 1
