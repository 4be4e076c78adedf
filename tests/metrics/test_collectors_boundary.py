"""DESIGN.md: collectors/ may import libvirt and prometheus_client, never textual/tinydb/ldap3."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

MODULES = [
    "collectors.exporter_server",  # imports every other exporter module
    "collectors.engine_metrics",
    "collectors.text_format",
]
FORBIDDEN = {"textual", "tinydb", "ldap3", "apscheduler", "fastapi", "uvicorn"}


@pytest.mark.parametrize("module", MODULES)
def test_exporter_modules_load_no_forbidden_library(module: str) -> None:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert not loaded & FORBIDDEN, f"{module} loads {sorted(loaded & FORBIDDEN)}"
