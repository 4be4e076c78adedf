"""The audit trail: `ovtui audit verify` catches edits and removals; filters; syslog forwarding."""

from __future__ import annotations

import argparse
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from auth.audit import AuditTrail, verify_chain
from auth.syslog_sink import SyslogSink, parse_target
from ovtui.cli import audit_cmds
from ovtui.cli.main import main
from tests.auth.conftest import BREAK_GLASS_PW, BREAK_GLASS_USER, Api, MakeApi


async def _busy_engine(make_api: MakeApi, auth_toml: str = "") -> Api:
    api = await make_api(auth_toml)
    admin = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)
    await api.login("mallory", "guess")
    assert (await api.http.post("/api/v1/vms/web-a1/suspend", headers=admin)).status_code == 200
    assert (await api.http.post("/api/v1/vms/web-a1/resume", headers=admin)).status_code == 200
    return api


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


async def test_audit_verify_intact_edited_removed(
    make_api: MakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api = await _busy_engine(make_api)
    config = api.engine.config.source
    trail = api.engine.config.engine.store_dir / "audit.jsonl"  # read while the engine runs

    assert main(["--config", config, "audit", "verify"]) == 0
    assert "intact: 4 records (seq 1..4)" in capsys.readouterr().out

    original = _lines(trail)
    # An edited record: a refused sign-in turned into a success.
    edited = [line.replace('"result":"denied"', '"result":"ok"') for line in original]
    assert edited != original
    trail.write_text("".join(edited))
    assert main(["--config", config, "audit", "verify"]) == 1
    out = capsys.readouterr()
    assert "content does not match its hash: it was edited" in out.out
    assert "NOT intact" in out.err

    # A removed record (the second one), checked with --file.
    copy = trail.with_name("copy.jsonl")
    copy.write_text("".join(original[:1] + original[2:]))
    assert main(["audit", "verify", "--file", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "seq 2 missing" in out and "chain broken" in out

    # A line that is not JSON any more.
    copy.write_text("".join(original[:1]) + "{garbage\n" + "".join(original[1:]))
    assert main(["audit", "verify", "--file", str(copy)]) == 1
    assert "line 2: not a JSON record" in capsys.readouterr().out

    trail.write_text("".join(original))
    assert main(["audit", "verify", "--file", str(trail)]) == 0


def test_verify_chain_reports_a_reordering() -> None:
    records: list[dict[str, Any]] = []
    trail = AuditTrail(records.append)
    for i in range(3):
        trail.record(actor="a", action=f"x{i}")
    for i, r in enumerate(records, 1):
        r["seq"] = i
    assert verify_chain(records) == []
    swapped = [records[0], records[2], records[1]]
    assert any("chain broken" in p for p in verify_chain(swapped))


async def test_audit_list_filters_by_user_object_and_time(make_api: MakeApi) -> None:
    api = await _busy_engine(make_api)
    admin = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)

    async def audit(**params: str) -> list[dict[str, Any]]:
        resp = await api.http.get("/api/v1/audit", params=params, headers=admin)
        assert resp.status_code == 200, resp.text
        rows: list[dict[str, Any]] = resp.json()
        return rows

    assert {r["action"] for r in await audit(target="web-a1")} == {"vm.suspend", "vm.resume"}
    assert [r["result"] for r in await audit(actor="mallory")] == ["denied"]
    assert len(await audit(actor=BREAK_GLASS_USER, action="login")) == 2
    now = datetime.now(UTC)
    assert len(await audit(since_ts=(now - timedelta(minutes=5)).isoformat())) == 5
    assert await audit(since_ts=(now + timedelta(minutes=5)).isoformat()) == []
    assert await audit(until_ts=(now - timedelta(minutes=5)).isoformat()) == []
    naive = (now + timedelta(minutes=5)).replace(tzinfo=None).isoformat()  # naive means UTC
    assert len(await audit(until_ts=naive, target="web-a1")) == 2


def test_audit_list_cli_maps_its_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    class Fake:
        def get(self, path: str, **params: Any) -> list[dict[str, Any]]:
            seen.update(params, path=path)
            return [{"seq": 7, "ts": "2025-01-31T08:00:00.000+00:00", "actor": "alice",
                     "actor_source": "ldap", "action": "login", "target": "", "result": "ok",
                     "detail": ""}]  # fmt: skip

    def fake_client(args: argparse.Namespace) -> Fake:
        return Fake()

    monkeypatch.setattr(audit_cmds, "signed_in_client", fake_client)
    argv = ["audit", "list", "--user", "alice", "--object", "prod-a", "--since", "2025-01-31"]
    assert main(argv) == 0
    assert seen == {"path": "/api/v1/audit", "actor": "alice", "action": None,
                    "target": "prod-a", "since_ts": "2025-01-31", "until_ts": None,
                    "limit": 200}  # fmt: skip
    out = capsys.readouterr().out
    assert "alice (ldap)" in out and "login" in out


@pytest.fixture
def udp_listener() -> Any:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def _received(sock: socket.socket, count: int) -> list[str]:
    return [sock.recvfrom(65535)[0].decode() for _ in range(count)]


async def test_syslog_forwarding_over_udp(make_api: MakeApi, udp_listener: socket.socket) -> None:
    port = udp_listener.getsockname()[1]
    api = await make_api(f'audit_syslog = "udp://127.0.0.1:{port}"')
    await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)
    assert (await api.login("mallory", "guess")).status_code == 401
    ok, denied = _received(udp_listener, 2)
    # authpriv (10) * 8 + info (6) = 86; + warning (4) = 84
    assert ok.startswith("<86>ovtui-audit: ") and denied.startswith("<84>ovtui-audit: ")
    record = json.loads(ok.split(": ", 1)[1])
    assert record["actor"] == BREAK_GLASS_USER and record["action"] == "login"
    assert record["seq"] == 1 and record["hash"] == api.engine.audit_log.tail(2)[0]["hash"]
    assert json.loads(denied.split(": ", 1)[1])["actor"] == "mallory"
    assert BREAK_GLASS_PW not in ok + denied


def test_syslog_targets() -> None:
    assert parse_target("/dev/log") == ("/dev/log", socket.SOCK_DGRAM)
    assert parse_target("udp://127.0.0.1:514") == (("127.0.0.1", 514), socket.SOCK_DGRAM)
    assert parse_target("tcp://[::1]:6514") == (("::1", 6514), socket.SOCK_STREAM)
    for bad in ("syslog", "udp://host", "http://h:1", "udp://:514"):
        with pytest.raises(ValueError, match="not a syslog target"):
            parse_target(bad)


def test_a_missing_local_syslog_never_stops_the_trail(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    trail = AuditTrail(records.append)
    trail.add_sink(SyslogSink(str(tmp_path / "no-such-socket")))
    trail.record(actor="a", action="login")
    assert len(records) == 1
