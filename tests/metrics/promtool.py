"""`promtool check metrics` (Debian package prometheus) on exposition text, for the tests."""

from __future__ import annotations

import shutil
import subprocess

import pytest

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool (Debian package prometheus) missing"
)


def check_metrics(text: str | bytes) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    data = text.decode() if isinstance(text, bytes) else text
    return subprocess.run(
        [PROMTOOL, "check", "metrics"], input=data, capture_output=True, text=True, timeout=60
    )
