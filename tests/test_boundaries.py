"""DESIGN.md's package boundaries, checked by importing each package in a fresh interpreter."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

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


# Lower rooms never import higher ones, not even for type checking: the engine composes its
# services and hands them what they need (ovtui/executor/engine_services.py).
HIGHER = ("ovtui.engine", "ovtui.api", "ovtui.cli", "ovtui.tui", "ovtui.demo")
LOWER = ("ovtui/jobs", "ovtui/executor", "ovtui/fleet", "ovtui/store", "ovtui/storage",
         "ovtui/ha", "ovtui/provision", "collectors", "policies", "auth")  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def _lower_modules() -> list[Path]:
    root = Path(__file__).resolve().parent.parent
    return sorted(p for d in LOWER if (root / d).is_dir() for p in (root / d).rglob("*.py"))


@pytest.mark.parametrize("path", _lower_modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lower_rooms_never_import_higher_ones(path: Path) -> None:
    bad = sorted(m for m in _imports(path) if m.startswith(HIGHER))
    assert not bad, f"{path} imports {bad}: pass what it needs in instead (DESIGN.md)"
