"""A host's networks over time: missing since when, and unfit only past the grace period."""

from __future__ import annotations

from ovtui.fleet.bridges import BridgeReading
from ovtui.fleet.host_networks import NetworkTracker, Wanted
from ovtui.model import NetworkState

UP = BridgeReading(NetworkState.UP, 1500)
DOWN = BridgeReading(NetworkState.DOWN, 1500, "bridge 'br-prod' is down")
GONE = BridgeReading(NetworkState.MISSING, 0, "no interface 'br-bk' on the host")


def _tracker(grace: float = 60.0) -> NetworkTracker:
    return NetworkTracker((Wanted("prod", "br-prod", True), Wanted("bk", "br-bk", False)), grace)


def test_required_network_down_past_the_grace_makes_the_host_unfit() -> None:
    t = _tracker()
    t.update({"prod": UP, "bk": UP}, 100.0)
    assert t.problem(100.0) is None
    t.update({"prod": DOWN, "bk": UP}, 110.0)
    assert t.problem(110.0) is None and t.problem(169.0) is None
    t.update({"prod": DOWN, "bk": UP}, 170.0)  # the clock runs from the first sighting
    assert t.problem(170.0) == "required network missing: prod (bridge 'br-prod' is down, for 60 s)"
    nets = {n.name: n for n in t.networks()}
    assert nets["prod"].state == NetworkState.DOWN and nets["prod"].missing_since == 110.0
    t.update({"prod": UP, "bk": UP}, 180.0)  # back: clock reset
    assert t.problem(180.0) is None and t.networks()[0].missing_since is None


def test_an_optional_network_never_makes_a_host_unfit() -> None:
    t = _tracker(grace=0.0)
    t.update({"prod": UP, "bk": GONE}, 1.0)
    assert t.problem(1000.0) is None
    assert t.networks()[1].state == NetworkState.MISSING


def test_an_unknown_answer_neither_starts_nor_resets_the_clock() -> None:
    t = _tracker(grace=10.0)
    assert t.networks()[0].state == NetworkState.UNKNOWN
    t.update({"prod": DOWN}, 1.0)
    t.update({"prod": BridgeReading(NetworkState.UNKNOWN)}, 5.0)
    t.update({}, 6.0)
    assert t.problem(11.0) is not None


def test_a_changed_set_of_networks_keeps_the_clock_of_those_still_wanted_on_the_same_bridge() -> (
    None
):
    t = _tracker(grace=10.0)
    t.update({"prod": DOWN, "bk": GONE}, 100.0)
    # through the API: "lab" defined, "bk" detached; "prod" is kept as it was, so its clock
    # runs on (a network on another bridge starts afresh).
    t.rewant((Wanted("prod", "br-prod", True), Wanted("lab", "br-lab", True)))
    assert [n.name for n in t.networks()] == ["prod", "lab"]
    assert t.networks()[0].missing_since == 100.0
    assert t.networks()[1].state == NetworkState.UNKNOWN  # not read yet: not missing yet
    assert t.problem(110.0) == "required network missing: prod (bridge 'br-prod' is down, for 10 s)"
    t.rewant((Wanted("prod", "br-prod2", True),))
    assert t.networks()[0].missing_since is None and t.problem(200.0) is None
    t.rewant(())  # detached from the cluster: nothing left to miss
    assert t.networks() == () and t.problem(1000.0) is None
