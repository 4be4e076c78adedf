"""One line for the host detail: the networks of the host's cluster and their state there."""

from __future__ import annotations

from typing import Any


def host_networks_line(networks: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> str:
    if not networks:
        return ""
    parts = [
        f"{n.get('name', '-')} {n.get('state', '-')}{' (required)' if n.get('required') else ''}"
        for n in networks
    ]
    return "Networks " + " · ".join(parts)
