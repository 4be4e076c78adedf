"""HaState.to_json: the document dataclasses.asdict would give, sharing nothing with the state.

The service compares it with the last write at every tick, so it is built by hand (asdict
deep-copies every value: ~85 ms a tick at 500 hosts x 40 VMs); these pin that it stays the same.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from ovtui.ha.model import HaState, Recovery


def _state() -> HaState:
    st = HaState()
    h1 = st.host("h1")
    h1.stage, h1.since, h1.last_power_op, h1.failures = "suspect", 12.5, 11.0, 2
    h1.running = {"u1": ["web-1", True, 3], "u2": ["db-1", False, 0]}
    st.host("h2").fenced_by = "power management"
    st.recoveries["u1"] = Recovery("u1", "web-1", "h1", 3, "fenced", 10.0, attempts=1)
    st.left_down["u2"] = ["db-1", "h1", 13.0]
    st.count("fence:ok")
    st.moved["u1"] = "h1"
    return st


def _containers(doc: Any) -> list[Any]:
    if isinstance(doc, dict):
        return [doc, *(c for v in doc.values() for c in _containers(v))]
    if isinstance(doc, list):
        return [doc, *(c for v in doc for c in _containers(v))]
    return []


def test_to_json_is_what_asdict_gives_in_the_same_order() -> None:
    st = _state()
    doc = st.to_json()
    assert doc == asdict(st)
    assert json.dumps(doc) == json.dumps(asdict(st))  # key order too: the same text is written
    assert HaState.from_json(json.loads(json.dumps(doc))) == st


def test_to_json_shares_no_list_or_dict_with_the_live_state() -> None:
    st = _state()
    doc = st.to_json()
    live = {id(c) for c in _containers(asdict(st))} | {
        id(c)
        for c in (
            st.hosts,
            st.recoveries,
            st.left_down,
            st.counters,
            st.moved,
            *st.left_down.values(),
            *(h.running for h in st.hosts.values()),
            *(v for h in st.hosts.values() for v in h.running.values()),
        )
    }
    assert not live & {id(c) for c in _containers(doc)}
    st.host("h1").running["u1"][2] = 9
    st.left_down["u2"].append("x")
    assert doc["hosts"]["h1"]["running"]["u1"] == ["web-1", True, 3]
    assert doc["left_down"]["u2"] == ["db-1", "h1", 13.0]
