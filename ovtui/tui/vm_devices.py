"""A VM's disks and NICs as the VM detail shows them, from GET /api/v1/vms/{vm}.

Parsing is tolerant like rows.py: the engine may add fields; a missing one shows as "-".
"""

from __future__ import annotations

from typing import Any

LABEL = 8  # the width of the detail's labels ("size    ", "flags   ")


def _s(record: dict[str, Any], key: str) -> str:
    return str(record.get(key) or "")


def disk_line(d: dict[str, Any]) -> str:
    source = _s(d, "source")
    if source:
        where = f"{_s(d, 'source_type')} {source}".strip()
    else:
        where = "(empty)" if _s(d, "device") == "cdrom" else "(no source)"
    parts = [_s(d, "target") or "-", _s(d, "bus") or "-", _s(d, "device") or "disk", where]
    return "  ".join(parts)


def nic_line(n: dict[str, Any]) -> str:
    kind, source = _s(n, "type"), _s(n, "source")
    attached = f"{kind} {source}".strip() or "-"
    target = _s(n, "target")
    parts = [_s(n, "mac") or "-", _s(n, "model") or "-", attached]
    if _s(n, "link") == "down":
        parts.append("link down")
    return "  ".join(parts) + (f"  → {target}" if target else "")


def device_lines(data: dict[str, Any] | None) -> list[str]:
    """'disk    vda  virtio  disk  file /…/web-1.qcow2' and 'nic     52:54:…  virtio  …'
    lines; one line saying why there are none when the engine has not read them."""
    if data is None:
        return ["devices loading…"]
    disks, nics = data.get("disks"), data.get("nics")
    if disks is None or nics is None:
        return ["devices not read yet (the engine reads them with the VM's next poll)"]
    lines = [f"{'disk':<{LABEL}}{disk_line(d)}" for d in disks] or [f"{'disk':<{LABEL}}none"]
    lines += [f"{'nic':<{LABEL}}{nic_line(n)}" for n in nics] or [f"{'nic':<{LABEL}}none"]
    return lines
