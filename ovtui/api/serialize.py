"""Model objects to JSON-ready dicts. Field lists are computed once: this is the hot path.

A VM's disks and NICs (VM.devices) are left out of `to_dict`, so lists of VMs (GET /api/v1/vms,
a host's detail) stay lean; `vm_with_devices` (GET /api/v1/vms/{vm}) adds them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from starlette.responses import JSONResponse

from ovtui.model import VM, Cluster, DataCenter, Host, Network

_FIELDS = {
    cls: tuple(f.name for f in fields(cls) if f.name != "devices")
    for cls in (VM, Host, Cluster, DataCenter)
}


def to_dict(obj: VM | Host | Cluster | DataCenter) -> dict[str, Any]:
    out = {name: getattr(obj, name) for name in _FIELDS[type(obj)]}
    if isinstance(obj, Cluster):
        out["scheduling_params"] = dict(obj.scheduling_params)
    elif isinstance(obj, Host):
        out["networks"] = [asdict(n) for n in obj.networks]
        out["storage_domains"] = sorted(obj.storage_domains)
    return out


def network_dict(net: Network) -> dict[str, Any]:
    out = {f.name: getattr(net, f.name) for f in fields(Network)}
    return {**out, "clusters": dict(net.clusters), "untested": _untested(net)}


def _untested(net: Network) -> list[str]:
    """What of this network's settings has never run on a real link (the lab kernel has no
    802.1Q and no bonding driver): said in every answer, not only in the README."""
    return [k for k, v in (("vlan", net.vlan), ("bond", net.bond)) if v]


def vm_with_devices(vm: VM) -> dict[str, Any]:
    """A VM with its devices: "disks" and "nics" are lists, or null while not read yet."""
    dev = vm.devices
    return {
        **to_dict(vm),
        "disks": None if dev is None else [asdict(d) for d in dev.disks],
        "nics": None if dev is None else [asdict(n) for n in dev.nics],
    }


class JSON(JSONResponse):
    """Plain json.dumps: FastAPI's jsonable_encoder walks every value and is far slower.

    Returned by routes, it bypasses response-model validation; the body is documented by the
    route's `responses=` (ovtui.api.schemas).
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()
