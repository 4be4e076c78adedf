"""An engine leaves no file of its store directory open (its store, its three JSON-lines logs)
once it is stopped, refused or failed: however it ends, in process, checked in /proc/self/fd.
The happy path through `run_engine` is tests/api/test_vm_actions.py (an engine that stops)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from ovtui.config import ConfigError, load_config
from ovtui.engine import Engine
from ovtui.engine.run import run_engine
from ovtui.testdriver_fleet import write_fleet
from tests.auth.conftest import two_cluster_spec


def _open_under(root: Path) -> list[str]:
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith(f"{root}/"):
            found.append(target)
    return sorted(found)


def _config_refused_by_the_engine(directory: Path) -> Path:
    """Passes the checks before the store is opened (preflight); the engine's sign-in then
    refuses its LDAP CA file, which holds no certificate."""
    ca_file = directory / "ca.pem"
    ca_file.write_text("not a certificate\n")
    path = write_fleet(two_cluster_spec(), directory)
    with path.open("a") as fh:
        fh.write(
            f'\n[auth.ldap]\nurls = ["ldaps://127.0.0.1:1"]\nca_file = "{ca_file}"\n'
            'user_dn_template = "uid={username},dc=x"\n'
        )
    return path


def test_an_engine_that_cannot_be_built_closes_what_it_opened(tmp_path: Path) -> None:
    config = load_config(_config_refused_by_the_engine(tmp_path))
    with pytest.raises(ConfigError, match="holds no usable CA certificate"):
        Engine(config)
    assert (config.engine.store_dir / "audit.jsonl").exists()  # it got as far as its files
    assert _open_under(config.engine.store_dir) == []


def test_run_engine_refused_after_its_store_is_open_leaves_no_file_open(tmp_path: Path) -> None:
    config = load_config(_config_refused_by_the_engine(tmp_path))
    with pytest.raises(ConfigError, match="holds no usable CA certificate"):
        asyncio.run(run_engine(config))
    assert _open_under(config.engine.store_dir) == []


async def test_a_part_that_fails_to_stop_does_not_keep_the_files_open(tmp_path: Path) -> None:
    config = load_config(write_fleet(two_cluster_spec(), tmp_path))
    engine = Engine(config)
    await engine.start()
    await engine.fleet.wait_connected(10)
    assert _open_under(config.engine.store_dir)  # sanity: the running engine holds them

    async def broken() -> None:
        raise RuntimeError("storage would not stop")

    engine.storage.stop = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="storage would not stop"):
        await engine.stop()
    assert _open_under(config.engine.store_dir) == []
    assert all(link.conn is None for link in engine.fleet.links.values())  # stopped after it
