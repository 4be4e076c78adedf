"""Log rotation of the JSON-lines logs with the shipped logrotate config, on a running engine."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ovtui.engine.run import reopen_logs
from ovtui.store import JsonlLog

CONFIG = Path(__file__).resolve().parents[2] / "appliance" / "logrotate" / "ovtui"

pytestmark = pytest.mark.skipif(shutil.which("logrotate") is None, reason="Debian logrotate")


def _config_for(store_dir: Path, tmp_path: Path) -> Path:
    text = CONFIG.read_text().replace("/var/lib/ovtui", str(store_dir))
    # As root on a root-owned test directory: no `su`; the signal is sent by the test below.
    text = text.replace("    su ovtui ovtui\n", "").replace(
        "systemctl kill --signal=HUP --kill-whom=main ovtui-engine.service", "true"
    )
    conf = tmp_path / "logrotate.conf"
    conf.write_text(text)
    conf.chmod(0o644)
    return conf


def test_rotated_logs_continue_in_new_files_and_the_trail_stays(
    start_engine: Any, tmp_path: Path
) -> None:
    live = start_engine()
    engine = live.engine
    check = subprocess.run(
        ["logrotate", "-d", str(_config_for(live.store_dir, tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    engine.events.append({"kind": "before"})
    last = engine.events.last_seq
    trail = live.audit_path.read_bytes()
    state = tmp_path / "logrotate.state"
    conf = _config_for(live.store_dir, tmp_path)
    done = subprocess.run(
        ["logrotate", "-f", "-s", str(state), str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rotated = live.store_dir / "events.jsonl.1"
    assert rotated.exists() and not (live.store_dir / "events.jsonl").exists()
    reopen_logs(engine)  # what SIGHUP does in `ovtui engine`
    engine.events.append({"kind": "after"})
    new = [json.loads(line) for line in (live.store_dir / "events.jsonl").read_text().splitlines()]
    assert [(r["seq"], r["kind"]) for r in new] == [(last + 1, "after")]
    assert json.loads(rotated.read_text().splitlines()[-1])["kind"] == "before"
    assert live.audit_path.read_bytes()[: len(trail)] == trail  # never rotated


def test_reopen_without_rotation_keeps_the_file(tmp_path: Path) -> None:
    log = JsonlLog(tmp_path / "e.jsonl")
    log.append({"n": 1})
    assert log.reopen() is False
    log.append({"n": 2})
    assert [r["n"] for r in log] == [1, 2]
    log.close()
