"""SIGKILL an engine-like audit writer at random instants: the trail must verify on restart.

The anchor is written after each append, so a kill leaves it at most one record behind (never
ahead, which would read as a cut trail); a kill mid-append leaves a torn line, which the next
start cuts and audits. Each kill comes only after the writer reported progress, so every round
tests a busy writer whatever the machine's speed.
"""

from __future__ import annotations

import json
import os
import random
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auth.audit_anchor import Anchor
from ovtui.cli.main import main
from ovtui.engine.audit_open import AUDIT_FILE, open_audit
from ovtui.store import Store
from ovtui.store.audit_anchor import AnchorFile, anchor_path

CHILD = Path(__file__).with_name("kill_audit_child.py")
ROUNDS = 12
SEED = int(os.environ.get("OVTUI_KILL_SEED", "20240611"))
WAIT = 60.0  # for one line of progress, so a wedged child cannot hang CI

pytestmark = pytest.mark.slow


def _anchored(trail: Path) -> Anchor:
    found = AnchorFile(anchor_path(trail)).read()
    assert found is not None
    return found


def _start(directory: Path, *mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(directory), *mode], stdout=subprocess.PIPE
    )


def _progress(child: subprocess.Popen[bytes], lines: int) -> None:
    assert child.stdout is not None
    for _ in range(lines):
        ready, _, _ = select.select([child.stdout], [], [], WAIT)
        assert ready, "the writer reported no progress"
        line = child.stdout.readline().decode()
        assert line.startswith("seq "), f"the writer said {line!r}"


def _restart_verifies(directory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trail = directory / AUDIT_FILE
    with Store.open(directory) as store:
        log, _trail, problems = open_audit(directory, store)
        log.close()
    assert problems == []
    assert main(["audit", "verify", "--file", str(trail)]) == 0, capsys.readouterr().out
    capsys.readouterr()


def test_the_trail_verifies_after_sigkill_at_random_instants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    for _ in range(ROUNDS):
        child = _start(tmp_path)
        try:
            _progress(child, rng.randint(1, 8))
            time.sleep(rng.random() * 0.005)  # where the kill lands; the check needs no timing
        finally:
            child.kill()  # by its PID: the only process we own here
            child.wait()
        _restart_verifies(tmp_path, capsys)


def test_a_kill_between_the_append_and_its_anchor_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    child = _start(tmp_path, "die-before-anchor")
    try:
        _progress(child, 2)
        assert child.wait(WAIT) == -9
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    trail = tmp_path / AUDIT_FILE
    last = json.loads(trail.read_text().splitlines()[-1])
    assert _anchored(trail).seq == last["seq"] - 1 == 2
    # As found (the engine still down) and after a restart, which catches the anchor up.
    assert main(["audit", "verify", "--file", str(trail)]) == 0
    _restart_verifies(tmp_path, capsys)
    assert _anchored(trail) == Anchor(3, last["hash"])
