"""Screens opened by name from the command line (`:policies`, `:audit`).

Imported on first use, so the dashboard's start does not pay for them; each is built as
cls(chrome, poller) like the other fleet screens.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class View:
    name: str
    module: str
    cls: str
    help: str
    needs: str | None = None  # a system-wide permission (the API refuses everyone else anyway)


VIEWS = {
    v.name: v
    for v in (
        View("policies", "ovtui.tui.policies_view", "PoliciesScreen", "scheduling policies, plans"),
        View("audit", "ovtui.tui.audit_view", "AuditScreen", "the audit trail", "audit.read"),
        View("networks", "ovtui.tui.networks_view", "NetworksScreen", "logical networks, hosts"),
        View("storage", "ovtui.tui.storage_view", "StorageScreen", "storage domains, disks, moves"),
        View("templates", "ovtui.tui.templates_view", "TemplatesScreen", "templates; new VM"),
        View("ha", "ovtui.tui.ha_view", "HaScreen", "HA reservation, fencing, HA restarts"),
        View(
            "provision",
            "ovtui.tui.provision_view",
            "ProvisionScreen",
            "clone, edit, delete, snapshots",
        ),
    )
}


def screen_class(name: str) -> Any:
    view = VIEWS[name]
    return getattr(importlib.import_module(view.module), view.cls)
