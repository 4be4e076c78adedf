"""Storage screen cells: capacity bars per host, disk rows, disk-move progress. Pure."""

from __future__ import annotations

from typing import Any

BAR = 10


def size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, factor in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20)):
        if n >= factor:
            return f"{n / factor:.1f}{unit}"
    return f"{n}B"


def bar(used: int, total: int, width: int = BAR) -> str:
    """▇▇▇░░░ 40%: the share of a domain in use."""
    if total <= 0:
        return "░" * width + "   -"
    share = min(1.0, used / total)
    full = int(share * width + 0.5)  # half up (round() would make 2.5 two)
    return "▇" * full + "░" * (width - full) + f" {share * 100:3.0f}%"


def host_bars(domain: dict[str, Any]) -> str:
    """One `host bar` per host: sizes as that host's pool reports them, or its state."""
    parts = []
    for h in domain["hosts"]:
        if h["state"] == "active":
            parts.append(f"{h['host']} {bar(h['allocation_bytes'], h['capacity_bytes'])}")
        else:
            parts.append(f"{h['host']} {h['state']}")
    return "  ".join(parts)


def domain_cells(d: dict[str, Any]) -> tuple[str, ...]:
    return (
        d["name"],
        d["type"],
        d["state"],
        size(d["capacity_bytes"]),
        size(d["available_bytes"]),
        host_bars(d),
    )


def disk_cells(d: dict[str, Any]) -> tuple[str, ...]:
    vms = ",".join(f"{u['vm']}:{u['target']}" for u in d["vms"]) or "-"
    return (
        d["name"],
        d["domain"],
        d["format"],
        d["allocation_policy"],
        size(d["capacity_bytes"]),
        size(d["allocation_bytes"]),
        vms,
    )


def move_line(m: dict[str, Any]) -> str:
    """`vm1 vdb shared→san copying ▇▇▇░░ 30% (64.0M/256.0M)`; running moves first."""
    total = m["bytes_total"] or m["capacity"]
    done = total if m["stage"] == "source_deleted" else m["bytes_done"]
    line = (
        f"{m['vm']} {m['target_dev']} {m['source']['domain']}→{m['dest']['domain']} "
        f"{m['stage']} {bar(done, total)} ({size(done)}/{size(total)})"
    )
    return line + (f"  {m['error']}" if m["error"] else "")


def moves_text(moves: list[dict[str, Any]], last: int = 5) -> str:
    running = [m for m in moves if m["stage"] not in ("source_deleted", "failed")]
    finished = [m for m in moves if m not in running][-max(0, last - len(running)) :]
    if not running and not finished:
        return "No disk moves yet (ovtui disk move VM DEV DOMAIN)."
    return "\n".join(move_line(m) for m in [*running, *reversed(finished)])
