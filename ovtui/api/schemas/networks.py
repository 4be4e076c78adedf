"""Logical network bodies: exactly what ovtui.api.routes.networks writes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ovtui.api.schemas.derive import Strict, list_of, model_of
from ovtui.model import Network, NetworkState


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
    types={"clusters": dict[str, Literal["required", "optional"]]},
    add={
        "untested": list[Literal["vlan", "bond"]],
        "hosts": list_of(NetworkHost),
    },
    doc=(
        "A logical network of a data center and its state on each host of its clusters. "
        "VLAN tagging and bonds are modelled and validated but UNTESTED (the lab kernel has no "
        "802.1Q and no bonding driver): `untested` names those this network uses."
    ),
)
