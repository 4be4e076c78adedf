"""Keys both policy screens offer, and who gets them (policy.manage on that cluster)."""

from __future__ import annotations

from textual.binding import Binding

from ovtui.tui.rights import Rights

MANAGE = "policy.manage"
POLICY_BINDINGS = [
    Binding("r", "run_now", "run now", tooltip="run the policy round now (the mode decides)"),
    Binding("m", "mode", "mode", tooltip="change the mode: off, recommend, automatic, config"),
]


def may_manage(rights: Rights, cluster: str, datacenter: str) -> bool:
    """System-wide, or a grant on the cluster or on its data center: what the engine's policy
    routes check (a host or VM grant does not cover its cluster)."""
    if MANAGE in rights.system:
        return True
    return any(
        MANAGE in g.permissions
        and (g.scope, g.object) in (("cluster", cluster), ("datacenter", datacenter))
        for g in rights.grants
    )
