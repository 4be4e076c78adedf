"""`ovtui storage ...` and `ovtui disk ...` against a live engine, tables and --json."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ovtui.cli.storage_cmds import parse_size
from tests.cli.test_cli import _login_with, _runner
from tests.conftest import LiveEngine
from tests.storage.helpers import all_read, storage_spec, wait_storage, with_domains

GIB = 1 << 30


def test_sizes_use_binary_units() -> None:
    assert parse_size("10G") == 10 * GIB and parse_size("512M") == 512 << 20
    assert parse_size("1.5t") == 3 << 39 and parse_size("4096") == 4096
    assert parse_size("2GiB") == 2 * GIB
    with pytest.raises(argparse.ArgumentTypeError, match="is not a size such as 10G"):
        parse_size("ten gigs")


def test_storage_and_disk_commands(
    start_engine: Callable[..., LiveEngine], tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    config = with_domains(
        storage_spec(), [{"name": "loc", "type": "local", "path": "/srv/vm", "hosts": ["h1"]}]
    )
    live = start_engine(config=config)
    wait_storage(live.as_role("SuperUser"), all_read)
    cli = _login_with(_runner(live, tmp_path, monkeypatch, capsys))("admin")

    code, out, err = cli("storage", "list")
    assert code == 0, err
    head, row = out.splitlines()
    assert head.split() == ["NAME", "TYPE", "DC", "STATE", "CAPACITY", "USED", "FREE", "HOSTS"]
    assert row.split() == ["loc", "local", "dc1", "active", "100.0G", "0B", "100.0G", "h1:active"]

    code, out, err = cli("storage", "show", "loc", "--json")
    assert code == 0, err
    assert json.loads(out)["hosts"][0]["host"] == "h1"

    code, out, err = cli("disk", "create", "loc", "logs", "2G", "--format", "raw")
    assert (code, out.strip()) == (0, "created logs on loc"), err
    code, out, err = cli("disk", "create", "loc", "huge", "1T", "--preallocated")
    assert code == 1
    assert "a preallocated 1024.0 GiB disk does not fit in storage domain loc" in err
    code, out, err = cli("disk", "list", "--json")
    assert code == 0, err
    (disk,) = json.loads(out)
    assert (disk["name"], disk["format"], disk["capacity_bytes"]) == ("logs", "raw", 2 * GIB)
    code, out, err = cli("disk", "list", "--storage", "loc")
    assert out.splitlines()[1].split() == ["logs", "loc", "raw", "thin", "2.0G", "0B", "-"]
    code, out, err = cli("disk", "delete", "loc", "logs")
    assert (code, out.strip()) == (0, "deleted logs from loc"), err
    code, out, err = cli("disk", "move", "app-1", "vda", "loc")
    assert code == 1
    assert "app-1's vda (/var/lib/libvirt/images/app-1.qcow2) is not on an ovtui storage" in err
    code, out, err = cli("disk", "moves", "--json")
    assert (code, json.loads(out)) == (0, [])
