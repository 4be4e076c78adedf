"""Logical network bodies: exactly what ovtui.api.routes.networks writes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ovtui.api.schemas.derive import Strict, list_of, model_of
from ovtui.api.schemas.text import Description
from ovtui.config.network_schema import BondConfig, BridgeName, NetName
from ovtui.model import Network, NetworkState

Usage = Literal["required", "optional"]


class NetworkHost(Strict):
    host: str
    cluster: str
    required: bool
    state: NetworkState
    missing_since: float | None = Field(description="unix time it was first seen not up")
    mtu: int = Field(ge=0, description="the bridge's MTU as read; 0: not read")


NetworkOut = model_of(
    Network,
    "Network",
    types={"clusters": dict[str, Usage]},
    add={
        "untested": list[Literal["vlan", "bond"]],
        "source": Literal["config", "api"],
        "hosts": list_of(NetworkHost),
    },
    doc=(
        "A logical network of a data center and its state on each host of its clusters. "
        "VLAN tagging and bonds are modelled and validated but UNTESTED (the lab kernel has no "
        "802.1Q and no bonding driver): `untested` names those this network uses. `source`: "
        "defined in ovtui.toml (changed there) or through the API (kept in the store)."
    ),
)


class NetworkCreate(Strict):
    """A logical network to define in the data center of the path (ovtui.toml's [[networks]]
    keys, less `datacenter`)."""

    name: NetName
    bridge: BridgeName = Field(description="the Linux bridge (or libvirt network) on each host")
    mtu: Annotated[int, Field(ge=68, le=65535)] = 1500
    vlan: Annotated[int, Field(ge=1, le=4094)] | None = Field(
        None, description="802.1Q tag: UNTESTED (no 802.1Q in the lab kernel)"
    )
    bond: BondConfig | None = Field(None, description="UNTESTED (no bonding in the lab kernel)")
    description: Description = ""
    clusters: dict[NetName, Usage] = Field(
        default_factory=dict, description="cluster -> required | optional (of this data center)"
    )


class NetworkClusters(Strict):
    clusters: dict[NetName, Usage] = Field(
        description="exactly the clusters the network is to be on; {} detaches it from all"
    )


class NetworkChanged(Strict):
    result: str
    network: NetworkOut  # type: ignore[valid-type]


class NetworkDeleted(Strict):
    result: str
