"""The networks filter: no VM goes to a host lacking one of the networks its NICs are on."""

from __future__ import annotations

from dataclasses import replace

from ovtui.model import HostNetwork, NetworkState, Nic, VmDevices
from policies.filters import FilterContext
from policies.filters.networks import NetworksFilter
from policies.params import parse_params
from policies.state import ClusterState
from tests.policies.helpers import host, snap, vm


def _net(state: NetworkState) -> tuple[HostNetwork, ...]:
    return (
        HostNetwork("prod", "br-prod", True, state),
        HostNetwork("backup", "br-bk", False, NetworkState.UP),
    )


def test_refuses_a_host_whose_bridge_is_down_or_missing_and_names_both() -> None:
    on_bridge = replace(vm("v", "a"), devices=VmDevices(nics=(Nic("m1", "bridge", "br-prod"),)))
    by_name = replace(vm("w", "a"), devices=VmDevices(nics=(Nic("m2", "network", "prod"),)))
    elsewhere = replace(vm("x", "a"), devices=VmDevices(nics=(Nic("m3", "network", "default"),)))
    unread = vm("y", "a")  # devices not read yet
    live = replace(vm("z", "a"), devices=VmDevices(nics=(Nic("m4", "bridge", "prod"),)))
    hosts = [
        replace(host("a"), networks=_net(NetworkState.UP)),
        replace(host("d"), networks=_net(NetworkState.DOWN)),
        replace(host("m"), networks=_net(NetworkState.MISSING)),
        replace(host("u"), networks=_net(NetworkState.UNKNOWN)),
    ]
    vms = [on_bridge, by_name, elsewhere, unread]
    state = ClusterState.from_snapshot(snap(hosts, vms), "c")
    ctx = FilterContext(state, parse_params({}))
    f = NetworksFilter()
    assert (
        f.refuse(ctx, on_bridge, state.rooms["d"])
        == "d lacks network prod of v (bridge br-prod down)"
    )
    assert (
        f.refuse(ctx, by_name, state.rooms["m"])
        == "m lacks network prod of w (bridge br-prod missing)"
    )
    assert f.refuse(ctx, on_bridge, state.rooms["u"]) is not None  # not known to be there
    assert f.refuse(ctx, on_bridge, state.rooms["a"]) is None
    assert f.refuse(ctx, elsewhere, state.rooms["d"]) is None  # not a logical network
    assert f.refuse(ctx, unread, state.rooms["d"]) is None
    assert f.refuse(ctx, live, state.rooms["d"]) is not None  # live XML of a network NIC


def test_the_maintenance_evacuation_only_uses_hosts_with_the_vms_networks() -> None:
    from policies.evacuation import evacuation_plan

    v = replace(vm("v", "a"), devices=VmDevices(nics=(Nic("m1", "bridge", "br-prod"),)))
    hosts = [
        replace(host("a"), networks=_net(NetworkState.DOWN)),
        replace(host("b", cpu=0.0), networks=_net(NetworkState.MISSING)),
        replace(host("c", cpu=0.5), networks=_net(NetworkState.UP)),
    ]
    moves, stuck = evacuation_plan(snap(hosts, [v]), "a")
    assert [m.target for m in moves] == ["c"] and not stuck
    moves, stuck = evacuation_plan(snap(hosts[:2], [v]), "a")
    assert not moves and stuck[0].reason == "b lacks network prod of v (bridge br-prod missing)"
