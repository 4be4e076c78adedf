"""The VM disks screen's cells, size input and the request bodies its forms make. Pure."""

from __future__ import annotations

import re
from typing import Any

from ovtui.tui.keyed_table import Col
from ovtui.tui.storage_rows import move_line, size

COLUMNS = (
    Col("target", "Device"),
    Col("domain", "Storage domain"),
    Col("volume", "Volume"),
    Col("format", "Format"),
    Col("capacity", "Size"),
    Col("allocation", "Allocated"),
    Col("moving", "Move"),
)
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'2G', '512M', '1.5GiB' or a byte count; ValueError says what is wanted."""
    found = _SIZE.match(text)
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"size {text!r} is not a size: write e.g. 2G, 512M or 1.5G")
    return int(float(found.group(1)) * _UNITS[found.group(2).upper()])


def running_move(moves: list[dict[str, Any]], vm_uuid: str, target: str) -> dict[str, Any] | None:
    """The unfinished move of this VM's disk, if one runs."""
    return next(
        (
            m
            for m in reversed(moves)
            if m["vm_uuid"] == vm_uuid
            and m["target_dev"] == target
            and m["stage"] not in ("source_deleted", "failed")
        ),
        None,
    )


def cells(d: dict[str, Any], move: dict[str, Any] | None) -> tuple[str, ...]:
    moving = f"{move['stage']} → {move['dest']['domain']}" if move else ""
    return (
        d["target"],
        d["domain"] or f"({d['source_type']})",
        d["volume"] or d["source"],
        d["format"] or "-",
        size(d["capacity_bytes"]),
        size(d["allocation_bytes"]),
        moving,
    )


def moves_of(moves: list[dict[str, Any]], vm_uuid: str, last: int = 3) -> str:
    """This VM's running moves with their progress bars, then its last finished ones."""
    mine = [m for m in moves if m["vm_uuid"] == vm_uuid]
    running = [m for m in mine if m["stage"] not in ("source_deleted", "failed")]
    finished = [m for m in mine if m not in running][-last:]
    if not mine:
        return "No disk moves for this VM."
    return "\n".join(move_line(m) for m in [*running, *reversed(finished)])


def create_body(values: dict[str, str]) -> dict[str, Any]:
    """The POST /storage/{domain}/disks body from the add form; ValueError on bad input."""
    fmt = values["format"].lower() or "qcow2"
    allocation = values["allocation"].lower() or "thin"
    if fmt not in ("qcow2", "raw"):
        raise ValueError(f"format {fmt!r}: qcow2 or raw")
    if allocation not in ("thin", "preallocated"):
        raise ValueError(f"allocation {allocation!r}: thin or preallocated")
    if not values["name"]:
        raise ValueError("the disk needs a name")
    if not values["domain"]:
        raise ValueError("name the storage domain to make the disk on")
    return {
        "name": values["name"],
        "size_bytes": parse_size(values["size"]),
        "format": fmt,
        "allocation": allocation,
    }


def move_body(values: dict[str, str]) -> dict[str, Any]:
    if not values["storage"]:
        raise ValueError("name the storage domain to move the disk to")
    body: dict[str, Any] = {"storage": values["storage"]}
    if values.get("volume"):
        body["volume"] = values["volume"]
    limit = values.get("bandwidth", "") or "0"
    if not limit.isdigit():
        raise ValueError(f"bandwidth {limit!r}: a whole number of MiB/s (0: no limit)")
    body["bandwidth_mib_s"] = int(limit)
    return body
