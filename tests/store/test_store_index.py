"""A host's state is asked for at every rebuild of the host (each poll, twice): looked up by
name, not by scanning every host's record, and never served stale after a write."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinydb.table import Table

from ovtui.store.database import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "store")
    for i in range(50):
        s.set_host_state(f"h{i}", power="on")
    return s


def test_host_lookups_do_not_scan_the_table_each_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned = []
    real = Table._read_table

    def counted(self: Table) -> object:
        scanned.append(self.name)
        return real(self)

    monkeypatch.setattr(Table, "_read_table", counted)
    for i in range(50):
        assert store.host_state(f"h{i}") == {"name": f"h{i}", "power": "on"}
    assert store.host_state("nowhere") == {}
    assert scanned.count("hosts") <= 1


def test_a_write_shows_at_once_and_a_discarded_transaction_not(store: Store) -> None:
    assert store.host_state("h3")["power"] == "on"
    store.set_host_state("h3", maintenance=True)
    assert store.host_state("h3") == {"name": "h3", "power": "on", "maintenance": True}
    store.set_host_state("new", power="off")
    assert store.host_state("new") == {"name": "new", "power": "off"}
    with pytest.raises(RuntimeError), store.transaction():
        store.set_host_state("h3", power="off")
        assert store.host_state("h3")["power"] == "off"
        raise RuntimeError("discard")
    assert store.host_state("h3")["power"] == "on"


def test_what_is_handed_out_cannot_alias_or_go_stale(store: Store) -> None:
    got = store.host_state("h1")
    got["power"] = "off"
    assert store.host_state("h1")["power"] == "on"
    table = store.table("hosts")  # writable there: never indexed again
    assert store.host_state("h1")["power"] == "on"
    table.update({"power": "off"}, lambda d: d["name"] == "h1")
    assert store.host_state("h1")["power"] == "off"
