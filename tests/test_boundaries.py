"""DESIGN.md's package boundaries, checked by importing each package in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

IO_LIBS = {"libvirt", "ldap3", "tinydb", "apscheduler", "prometheus_client", "textual"}

CONTRACTS = {
    # module to import: libraries it must not pull in
    "policies": IO_LIBS | {"fastapi", "httpx"},
    "ovtui.model": IO_LIBS | {"fastapi", "httpx", "pydantic"},
    "auth.audit": IO_LIBS - {"ldap3"},
    "auth.permissions": IO_LIBS,
    "collectors.synthetic_load": IO_LIBS,
    "ovtui.tui.app": {"libvirt", "ldap3", "tinydb", "fastapi"},
    # loaded on demand by the app, so importing the app alone does not cover them
    "ovtui.tui.policies_view": {"libvirt", "ldap3", "tinydb", "fastapi", "apscheduler"},
    "ovtui.tui.audit_view": {"libvirt", "ldap3", "tinydb", "fastapi", "apscheduler"},
    "ovtui.client": {"libvirt", "ldap3", "tinydb", "fastapi", "textual"},
    # HA: the planners are pure, and so is the state machine with its simulator
    "policies.ha_restart": IO_LIBS | {"fastapi", "httpx"},
    "policies.ha_reservation": IO_LIBS | {"fastapi", "httpx"},
    "policies.resiliency": IO_LIBS | {"fastapi", "httpx"},
    "ovtui.ha.simulator": IO_LIBS | {"fastapi", "httpx", "pydantic"},
}


def _loaded(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(out.stdout)}


@pytest.mark.parametrize("module", sorted(CONTRACTS))
def test_package_boundary(module: str) -> None:
    leaked = _loaded(module) & CONTRACTS[module]
    assert not leaked, f"importing {module} loads {sorted(leaked)}, which DESIGN.md forbids"


def test_the_ha_service_does_not_import_the_engine() -> None:
    """DESIGN.md: the engine composes the HA service and hands it what it needs."""
    code = "import json, sys, ovtui.ha.service; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not [m for m in json.loads(out.stdout) if m.startswith(("ovtui.engine", "ovtui.api"))]
