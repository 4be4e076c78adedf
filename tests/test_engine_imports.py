"""The engine's start-up imports only what its configuration uses.

Python start-up is most of the time before the API answers (imports and their module-level work:
pydantic models, FastAPI routes). ldap3, psycopg, httpx (the client side of the API) and the lab
are each tens of milliseconds of it and an engine without a directory, without PostgreSQL and
never acting as a client does not need them. Run in a fresh interpreter, as `ovtui engine` is:
the CLI module and its parser first, then the engine until it serves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from ovtui.testdriver_fleet import synthetic_spec, write_fleet

NOT_NEEDED = ("ldap3", "psycopg", "httpx", "ovtui.lab.lab")

STARTED = """
import asyncio, json, os, sys
import ovtui.cli.main
ovtui.cli.main.build_parser()  # `ovtui engine` builds every subcommand's parser first
from ovtui.config import load_config
from ovtui.engine.run import run_engine

config = load_config(sys.argv[1])
stop = asyncio.Event()

def ready(engine):
    print(json.dumps(sorted(sys.modules)), flush=True)
    stop.set()

asyncio.run(run_engine(config, stop=stop, on_ready=ready))
"""


def test_a_started_engine_without_directory_or_postgresql_imports_neither(tmp_path: Path) -> None:
    config = write_fleet(synthetic_spec(1, 2, seed=1), tmp_path)
    users = tmp_path / "users.toml"
    write_local_users(users, [LocalUser("admin", hash_password("x", n=2**4), frozenset())])
    with config.open("a") as fh:
        fh.write(f'\n[auth]\nlocal_users_file = "{users}"\n')
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", STARTED, str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout.splitlines()[0]))
    assert "fastapi" in loaded and "ovtui.engine.core" in loaded  # it did start
    leaked = sorted(m for m in NOT_NEEDED if m in loaded)
    assert not leaked, f"the engine imported {leaked}, which this configuration does not use"
