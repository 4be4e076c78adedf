"""`ovtui vm create|delete` against a live engine, text and --json."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ovtui.cli.provision_cmds import _disk, _nic
from tests.cli.test_cli import _login_with, _runner
from tests.conftest import LiveEngine
from tests.provision.test_create_api import _spec
from tests.storage.helpers import all_read, wait_storage, with_domains


def test_create_and_delete_from_the_cli(
    start_engine: Callable[..., LiveEngine], tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    config = with_domains(_spec(), [{"name": "shared", "type": "shared_dir", "path": "/srv/s"}])
    live = start_engine(config=config)
    wait_storage(live.as_role("SuperUser"), all_read)
    cli = _login_with(_runner(live, tmp_path, monkeypatch, capsys))("admin")

    code, out, err = cli(
        "vm", "create", "app-1", "--cluster", "c1", "--memory", "1024",
        "--disk", "shared:2G", "--disk", "shared:1G:raw", "--nic", "br0", "--ha",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "created app-1 on h3"
    assert lines[1].startswith("  host: h3: the most free memory")
    assert lines[2:] == [
        "  disk vda: shared/app-1-disk1.qcow2 (qcow2)",
        "  disk vdb: shared/app-1-disk2.img (raw)",
    ]
    code, out, err = cli("vm", "create", "app-1", "--cluster", "c1", "--json")
    assert code == 1 and "a VM named 'app-1' already exists in data center dc1" in err
    code, out, err = cli("vm", "delete", "app-1", "--disks", "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["deleted_disks"] == [
        "shared/app-1-disk1.qcow2",
        "shared/app-1-disk2.img",
    ]


def test_disk_and_nic_arguments() -> None:
    assert _disk("shared:10G") == {"storage": "shared", "size_bytes": 10 << 30}
    assert _disk("s:1G:raw:preallocated")["allocation"] == "preallocated"
    with pytest.raises(argparse.ArgumentTypeError, match="DOMAIN:SIZE"):
        _disk("shared")
    assert _nic("br0") == {"type": "bridge", "source": "br0"}
    assert _nic("network:default") == {"type": "network", "source": "default"}


def test_template_clone_and_edit_from_the_cli(
    start_engine: Callable[..., LiveEngine], tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    config = with_domains(_spec(), [{"name": "shared", "type": "shared_dir", "path": "/srv/s"}])
    live = start_engine(config=config)
    wait_storage(live.as_role("SuperUser"), all_read)
    cli = _login_with(_runner(live, tmp_path, monkeypatch, capsys))("admin")
    code, out, err = cli(
        "vm", "create", "gold", "--cluster", "c1", "--host", "h2", "--disk", "shared:1G"
    )  # fmt: skip
    assert code == 0, err
    code, out, err = cli("template", "create", "gold", "base", "--description", "the base")
    assert (code, out.strip()) == (0, "template base made from gold"), err
    code, out, err = cli("template", "list")
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", "Blank", "base"]
    code, out, err = cli("vm", "create", "w", "--cluster", "c1", "--template", "base",
                         "--host", "h2", "--full")  # fmt: skip
    assert code == 0, err
    code, out, err = cli("template", "show", "base", "--json")
    assert json.loads(out)["vms"] == ["w"] and json.loads(out)["thin_vms"] == []
    code, out, err = cli("vm", "clone", "gold", "gold-2")
    assert out.splitlines()[0] == "cloned gold as gold-2 on h2", err
    code, out, err = cli("vm", "edit", "gold-2", "--vcpus", "2", "--ha", "yes", "--json")
    assert code == 0, err
    assert json.loads(out)["applied"] == {"vcpus": "defined", "flags": "defined"}
    code, out, err = cli("template", "delete", "base")
    assert (code, out.strip()) == (0, "template base deleted"), err


def test_snapshot_commands(
    start_engine: Callable[..., LiveEngine], tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    config = with_domains(_spec(), [{"name": "shared", "type": "shared_dir", "path": "/srv/s"}])
    live = start_engine(config=config)
    wait_storage(live.as_role("SuperUser"), all_read)
    cli = _login_with(_runner(live, tmp_path, monkeypatch, capsys))("admin")
    code, out, err = cli("vm", "create", "s", "--cluster", "c1", "--disk", "shared:1G")
    assert code == 0, err
    live.settle()
    code, out, err = cli("snapshot", "create", "s", "base", "--description", "before")
    assert (code, out.strip()) == (0, "snapshot base of s taken (disks)"), err
    code, out, err = cli("snapshot", "list", "s")
    head, row = out.splitlines()
    assert head.split()[:3] == ["NAME", "TAKEN", "VM"] and row.split()[0] == "base"
    assert row.split()[-2:] == ["*", "before"]
    code, out, err = cli("snapshot", "revert", "s", "base")
    assert (code, out.strip()) == (0, "s reverted to snapshot base"), err
    code, out, err = cli("snapshot", "delete", "s", "base", "--json")
    assert json.loads(out) == {"result": "snapshot base of s deleted"}
