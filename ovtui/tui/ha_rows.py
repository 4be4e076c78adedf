"""HA screen cells: the reservation line, hosts being fenced, recoveries in progress. Pure:
from GET /api/v1/ha's JSON and the time now."""

from __future__ import annotations

from typing import Any

from rich.text import Text

# Host stages in the order a fence goes through them, as people read them.
STAGE_WORDS = {
    "suspect": "not responding (grace)",
    "soft_fencing": "soft fence running",
    "soft_wait": "soft fenced, waiting",
    "fencing_off": "powering off",
    "confirming_off": "confirming power-off",
    "powering_on": "fenced, powering on",
    "fenced": "fenced",
    "needs_confirmation": "NEEDS CONFIRMATION",
}


def ago(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h"


def reservation_line(reservation: dict[str, dict[str, Any]]) -> Text:
    """'HA reservation: c1 ok (2 HA VMs) · c2 LOST: if h3 fails, db-1 cannot restart: ...'.

    The same figure as ovtui_ha_reservation_ok: can the other hosts of each cluster take the
    HA VMs of any one failed host."""
    text = Text("HA reservation: ", style="bold")
    if not reservation:
        text.append("no cluster you may read", style="dim")
        return text
    for i, (cluster, r) in enumerate(sorted(reservation.items())):
        if i:
            text.append(" · ", style="dim")
        vms = f"{r['ha_vms']} HA VM{'s' if r['ha_vms'] != 1 else ''}"
        if r["ok"]:
            text.append(f"{cluster} ok ({vms})", style="green")
        else:
            text.append(f"{cluster} LOST ({vms}): {r['detail']}", style="bold red")
    return text


def lost_hosts(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: h for n, h in status["hosts"].items() if h["stage"] != "up"}


def host_cells(h: dict[str, Any], now: float) -> tuple[str, ...]:
    """Host, stage, for how long, why it waits (or what failed), HA VMs waiting on it."""
    why = h["held"] or h["last_error"] or (f"by {h['fenced_by']}" if h["fenced_by"] else "")
    waiting = ", ".join(f"{v['vm']} ({v['priority']})" for v in h.get("waiting", []))
    return (STAGE_WORDS.get(h["stage"], h["stage"]), ago(now - h["since"]), why, waiting or "-")


def recovery_cells(r: dict[str, Any], now: float) -> tuple[str, ...]:
    """VM, priority, from, cause, stage, attempts, next try, last error."""
    if r["stage"] == "starting":
        nxt = "now"
    elif r["next_try"] > now:
        nxt = f"in {ago(r['next_try'] - now)}"
    else:
        nxt = "due"
    return (
        r["vm"],
        str(r["priority"]),
        r["from"],
        r["cause"],
        r["stage"],
        str(r["attempts"]),
        nxt,
        r["last_error"] or "-",
    )


def left_down_text(left: list[dict[str, Any]]) -> str:
    if not left:
        return ""
    return "left down (not HA): " + ", ".join(f"{v['vm']} of {v['host']}" for v in left)
