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
    # storage XML builders are pure: unit-tested without libvirt
    "ovtui.storage.pool_xml": IO_LIBS | {"fastapi"},
    "ovtui.storage.volume_xml": IO_LIBS | {"fastapi"},
}


def _loaded(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(out.stdout)}


@pytest.mark.parametrize("module", sorted(CONTRACTS))
def test_package_boundary(module: str) -> None:
    leaked = _loaded(module) & CONTRACTS[module]
    assert not leaked, f"importing {module} loads {sorted(leaked)}, which DESIGN.md forbids"
