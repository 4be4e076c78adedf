"""Hooks: real executables in a directory, run without a shell, each audited."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ovtui.provision.hooks import HookRefused, Hooks
from tests.conftest import API, LiveEngine
from tests.provision.test_create_api import _spec, _state
from tests.storage.helpers import all_read, wait_storage, with_domains

XML = "<domain type='test'><name>web</name><uuid>u-1</uuid><memory>1</memory></domain>"
ADD_DESCRIPTION = f"""#!{sys.executable}
import os, re, sys
xml = re.sub(r"<description>.*?</description>", "", sys.stdin.read(), flags=re.S)
said = "<description>hooked %s on %s</description>" % (
    os.environ["OVTUI_EVENT"], os.environ["OVTUI_HOST"])
sys.stdout.write(xml.replace("<memory", said + "<memory", 1))
"""


def _hook(root: Path, event: str, name: str, text: str, mode: int = 0o755) -> Path:
    path = root / event / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def _hooks(root: Path, timeout: float = 10.0) -> tuple[Hooks, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    return Hooks(root, timeout, lambda **kw: records.append(kw)), records


def test_a_before_hook_changes_the_definition_and_the_next_sees_it(tmp_path: Path) -> None:
    _hook(tmp_path, "before_vm_start", "10-describe", ADD_DESCRIPTION)
    _hook(tmp_path, "before_vm_start", "20-check", "#!/bin/sh\ngrep -q hooked || exit 3\n")
    _hook(tmp_path, "before_vm_start", "30-not-executable", "#!/bin/sh\nexit 1\n", 0o644)
    hooks, records = _hooks(tmp_path)
    out = asyncio.run(hooks.run("before_vm_start", XML, vm="web", host="h1", actor="ann"))
    assert "<description>hooked before_vm_start on h1</description>" in out
    assert [(r["target"], r["result"], r["actor"]) for r in records] == [
        ("hook/before_vm_start/10-describe", "ok", "ann"),
        ("hook/before_vm_start/20-check", "ok", "ann"),
    ]
    assert records[0]["detail"].endswith("definition changed")


def test_refusal_hang_and_bad_output(tmp_path: Path) -> None:
    _hook(tmp_path, "before_migrate", "no", "#!/bin/sh\necho 'not during backups' >&2\nexit 1\n")
    _hook(tmp_path, "before_vm_create", "hang", "#!/bin/sh\nsleep 600\n")
    _hook(
        tmp_path,
        "before_disk_move",
        "swap",
        "#!/bin/sh\ncat >/dev/null\necho '<domain><name>x</name></domain>'\n",
    )
    hooks, records = _hooks(tmp_path, timeout=0.5)
    with pytest.raises(HookRefused, match="hook before_migrate/no refused: not during backups"):
        asyncio.run(hooks.run("before_migrate", XML, vm="web"))
    with pytest.raises(HookRefused, match=r"did not finish within 0\.5 s"):
        asyncio.run(hooks.run("before_vm_create", XML, vm="web"))
    with pytest.raises(HookRefused, match="a domain with another uuid"):
        asyncio.run(hooks.run("before_disk_move", XML, vm="web"))
    assert [r["result"] for r in records] == ["refused", "failed", "failed"]


def test_an_after_hook_failure_is_audited_not_raised(tmp_path: Path) -> None:
    _hook(tmp_path, "after_vm_stop", "fails", "#!/bin/sh\necho oops >&2\nexit 2\n")
    hooks, records = _hooks(tmp_path)
    assert asyncio.run(hooks.run("after_vm_stop", XML, vm="web")) == XML
    assert (records[0]["result"], records[0]["detail"]) == ("failed", records[0]["detail"])
    assert "exit 2" in records[0]["detail"] and "oops" in records[0]["detail"]


def test_hooks_around_create_and_start_on_the_engine(
    start_engine: Callable[..., LiveEngine], tmp_path: Path
) -> None:
    hooks_dir = tmp_path / "hooks"
    refuse = _hook(
        hooks_dir, "before_vm_create", "quota", "#!/bin/sh\necho 'quota exceeded' >&2\nexit 1\n"
    )
    _hook(hooks_dir, "before_vm_start", "describe", ADD_DESCRIPTION)
    config = with_domains(_spec(), [{"name": "shared", "type": "shared_dir", "path": "/srv/s"}])
    config = config.model_copy(
        update={"provision": config.provision.model_copy(update={"hooks_dir": hooks_dir})}
    )
    live = start_engine(config=config)
    admin = live.as_role("SuperUser")
    wait_storage(admin, all_read)
    before = _state(live)
    body = {"name": "h-1", "disks": [{"storage": "shared", "size_bytes": 1 << 30}]}
    resp = admin.post(f"{API}/clusters/c1/vms", json=body)
    assert resp.status_code == 409
    assert (
        resp.json()["error"]["message"]
        == "h-1: hook before_vm_create/quota refused: quota exceeded"
    )
    assert _state(live) == before  # its disk was made, then removed
    refuse.unlink()
    assert admin.post(f"{API}/clusters/c1/vms", json={**body, "host": "h2"}).status_code == 201
    # a VM defined outside ovtui gets the start hooks too
    assert admin.post(f"{API}/vms/big/poweroff").status_code == 200
    assert admin.post(f"{API}/vms/big/start").status_code == 200
    runs = [r for r in live.audit_records() if r["action"] == "hook.run"]
    assert [(r["target"], r["result"], r["actor"]) for r in runs] == [
        ("hook/before_vm_create/quota", "refused", "admin"),
        ("hook/before_vm_start/describe", "ok", "admin"),
    ]

    reg = live.engine.metrics.registry
    refused = {"event": "before_vm_create", "result": "refused"}
    assert reg.get_sample_value("ovtui_hook_runs_total", refused) == 1

    def described() -> str:
        async def read() -> str:
            link = live.engine.fleet.links["h1"]
            return await link.call(lambda c: c.lookupByName("big").XMLDesc(0), action="read")

        return live.run(read())

    assert "<description>hooked before_vm_start on h1</description>" in described()
