"""The shipped Prometheus config and rules: promtool checks them and runs their unit tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROM = Path(__file__).resolve().parents[2] / "appliance" / "prometheus"
PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian: prometheus) missing")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=PROM)


def test_the_scrape_config_is_valid_and_finds_the_rule_files() -> None:
    out = promtool("check", "config", "prometheus.yml")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(list((PROM / 'rules').glob('*.yml')))} rule files found" in out.stdout


def test_the_rules_are_valid() -> None:
    out = promtool("check", "rules", *sorted(str(p) for p in (PROM / "rules").glob("*.yml")))
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_rule_unit_tests_pass() -> None:
    tests = sorted(str(p) for p in (PROM / "tests").glob("*.yml"))
    assert len(tests) >= 2
    out = promtool("test", "rules", *tests)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_alert_has_a_unit_test_that_fires_it() -> None:
    # plain patterns over files we write (no YAML library in the environment)
    rules = "".join(p.read_text() for p in (PROM / "rules").glob("*.yml"))
    tests = "".join(p.read_text() for p in (PROM / "tests").glob("*.yml"))
    alerts = set(re.findall(r"^\s*- alert: (\S+)$", rules, re.M))
    fired = set(re.findall(r"alertname: (\S+)\n\s+exp_alerts:\n\s+- exp_labels", tests))
    assert len(alerts) >= 6
    assert alerts <= fired, f"alerts without a test that fires them: {sorted(alerts - fired)}"
