"""Model objects to JSON-ready dicts. Field lists are computed once: this is the hot path."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from starlette.responses import Response

from ovtui.model import VM, Cluster, DataCenter, Host

_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in (VM, Host, Cluster, DataCenter)}


def to_dict(obj: VM | Host | Cluster | DataCenter) -> dict[str, Any]:
    out = {name: getattr(obj, name) for name in _FIELDS[type(obj)]}
    if isinstance(obj, Cluster):
        out["scheduling_params"] = dict(obj.scheduling_params)
    return out


class JSON(Response):
    """Plain json.dumps: FastAPI's jsonable_encoder walks every value and is far slower."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()
